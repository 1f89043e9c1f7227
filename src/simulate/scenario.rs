//! The simulated incident as abstract records (requests, statements, push messages) day by
//! day: background life of a loyalty app, a legitimate broadcast, and the two attack waves.
//! Writers turn these into real formats; `truth` is collected alongside.

use super::rng::Rng;

/// One microsecond-resolution instant.
pub type Us = i64;
/// One second in µs.
pub const S: Us = 1_000_000;
/// One minute in µs.
pub const M: Us = 60 * S;
/// One hour in µs.
pub const H: Us = 60 * M;
/// One day in µs.
pub const D: Us = 24 * H;

/// A push-capable device.
#[derive(Debug, Clone)]
pub struct Device {
    /// FCM installation id.
    pub fcm: String,
    /// SNS endpoint ARN.
    pub sns: String,
    /// OneSignal subscription id.
    pub onesignal: String,
    /// `android` / `ios`.
    pub platform: &'static str,
}

/// A customer of the roster.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Account id.
    pub id: String,
    /// Creation time.
    pub created: Us,
    /// Name.
    pub name: String,
    /// Email.
    pub email: String,
    /// Phone.
    pub phone: String,
    /// Devices.
    pub devices: Vec<Device>,
    /// Usual address.
    pub ip: String,
    /// App user agent.
    pub ua: &'static str,
    /// Bonus balance (evolves during simulation).
    pub balance: i64,
}

/// A staff member.
#[derive(Debug, Clone)]
pub struct Staff {
    /// Principal as the authorizer logs it.
    pub principal: &'static str,
}

/// An HTTP request at the gateway.
#[derive(Debug, Clone)]
pub struct Req {
    /// True time.
    pub ts: Us,
    /// Request id (UUID).
    pub id: String,
    /// Client address.
    pub ip: String,
    /// User agent.
    pub ua: String,
    /// Method.
    pub method: &'static str,
    /// Route template.
    pub route: &'static str,
    /// Concrete path.
    pub path: String,
    /// Query string.
    pub query: Option<String>,
    /// Status.
    pub status: u16,
    /// Response bytes.
    pub bytes: u64,
    /// Latency ms.
    pub latency: u32,
    /// Authenticated subject.
    pub subject: Option<String>,
    /// 0 background, 1/2 attack wave.
    pub wave: u8,
}

/// Kind of DB record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SKind {
    /// An audited statement.
    Stmt,
    /// Connection authorized.
    Connect,
    /// Password authentication failed.
    AuthFail,
    /// Disconnection.
    Disconnect,
}

/// A DB audit record.
#[derive(Debug, Clone)]
pub struct Stmt {
    /// True time.
    pub ts: Us,
    /// DB user.
    pub user: &'static str,
    /// Client host.
    pub host: String,
    /// Backend pid / connection id.
    pub pid: u32,
    /// Statement text with `$n` placeholders.
    pub text: String,
    /// Bound parameters.
    pub params: Vec<String>,
    /// pgaudit class.
    pub class: &'static str,
    /// Command tag.
    pub command: &'static str,
    /// Object (schema-qualified table).
    pub object: String,
    /// Kind.
    pub kind: SKind,
    /// 0 background, 1/2 attack wave.
    pub wave: u8,
    /// The application built the text from its input (the flawed menu search) instead
    /// of binding values: a driver sends it as it is.
    pub concatenated: bool,
}

/// One per-device outcome of a push message.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// Time.
    pub ts: Us,
    /// Customer index.
    pub cust: usize,
    /// Device index within the customer.
    pub dev: usize,
    /// Delivered (else failed).
    pub ok: bool,
}

/// A push message.
#[derive(Debug, Clone)]
pub struct Msg {
    /// Send time.
    pub ts: Us,
    /// Campaign id (also FCM analytics label).
    pub campaign: String,
    /// FCM message id.
    pub fcm_id: String,
    /// OneSignal notification id.
    pub onesignal_id: String,
    /// SNS message id.
    pub sns_id: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Topic / segment.
    pub topic: &'static str,
    /// Deliveries.
    pub deliveries: Vec<Delivery>,
    /// Attack wave or 0.
    pub wave: u8,
}

/// Everything one day produced.
#[derive(Debug, Default)]
pub struct Day {
    /// Requests, sorted by time.
    pub reqs: Vec<Req>,
    /// Statements, sorted by time.
    pub stmts: Vec<Stmt>,
    /// Messages.
    pub msgs: Vec<Msg>,
}

/// Fixed cast of the incident.
pub struct World {
    /// Start of day 0 (UTC midnight).
    pub start: Us,
    /// Days simulated.
    pub days: u32,
    /// Day index of the attack.
    pub attack_day: u32,
    /// When the two waves begin, from the attack day's UTC midnight.
    pub attack_at: (Us, Us),
    /// Background volume multiplier.
    pub scale: f64,
    /// Customers.
    pub customers: Vec<Customer>,
    /// Staff.
    pub staff: Vec<Staff>,
    /// Accounts the attacker owns.
    pub attacker_owned: Vec<usize>,
    /// Accounts wave 1 drained, with the points taken (filled by the attack).
    pub drained: Vec<(usize, i64)>,
    /// Staff refund the drained accounts and credit goodwill points the next morning.
    pub compensation: bool,
    /// Internet background noise, from a random stream of this seed.
    pub noise: Option<u64>,
    /// Stuffing addresses (the first is wave 1's only one with `idor`).
    pub stuffing_ips: Vec<String>,
    /// Wave 1 drains accounts from the attacker's own through an insecure direct object
    /// reference.
    pub idor: bool,
    /// Wave 1 replays customers' stolen session tokens from the first two stuffing
    /// addresses.
    pub hijack: bool,
    /// Wave 2 dumps tables through SQL injection on the public menu search.
    pub injection: bool,
    /// Wave 2 connects to the database directly as the analytics job.
    pub direct: bool,
    /// Wave-2 address.
    pub wave2_ip: &'static str,
    /// Wave-2 user agent.
    pub wave2_ua: &'static str,
    /// The stolen staff principal.
    pub stolen: &'static str,
    /// Office addresses.
    pub office: Vec<&'static str>,
    /// Collection time: evidence ends here.
    pub end: Us,
    /// Offensive text of the malicious push.
    pub evil: (String, String),
    /// Whether the application tags statements with sqlcommenter request ids.
    pub tagged: bool,
    /// How the application names its routes, tables and columns.
    pub names: super::dialect::Names,
}

/// The nightly export job's database user (and wave 2's with `direct`: its password
/// leaked).
pub const ANALYTICS: &str = "analytics";

/// App UAs.
const APP_UAS: &[&str] = &[
    "okhttp/4.12.0",
    "LoyaltyApp/5.2.1 (Android 14; SM-A546B)",
    "LoyaltyApp/5.2.1 (iPhone; iOS 17.6.1) CFNetwork/1496.0.7 Darwin/23.6.0",
];
/// Staff browser.
pub const STAFF_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/129.0.0.0 Safari/537.36";
const FIRST: &[&str] = &[
    "Olena", "Andrii", "Iryna", "Taras", "Oksana", "Dmytro", "Kateryna", "Serhii", "Natalia",
    "Yurii", "Sofiia", "Bohdan", "Mariia", "Vasyl", "Anna", "Maksym",
];
const LAST: &[&str] = &[
    "Kovalenko",
    "Bondarenko",
    "Tkachenko",
    "Shevchenko",
    "Kravchenko",
    "Melnyk",
    "Boiko",
    "Oliinyk",
    "Lysenko",
    "Moroz",
    "Marchenko",
    "Savchenko",
    "Rudenko",
    "Polishchuk",
];

impl World {
    /// Builds the cast for a seed.
    pub fn new(seed: u64, start: Us, scale: f64) -> World {
        let mut r = Rng::new(seed);
        let days = 5;
        let n = 1400;
        let mut customers = Vec::with_capacity(n);
        for i in 0..n {
            let created = if r.chance(0.88) {
                start - r.range(5, 700) * D - r.range(0, D / S) * S
            } else {
                start + r.range(0, (days as i64) * D / M - 60) * M
            };
            let first = r.pick(FIRST).to_string();
            let last = r.pick(LAST).to_string();
            let nd = if r.chance(0.12) {
                0
            } else if r.chance(0.15) {
                2
            } else {
                1
            };
            let devices = (0..nd)
                .map(|_| {
                    let platform = if r.chance(0.6) { "android" } else { "ios" };
                    let plat = if platform == "android" {
                        "GCM/loyalty-android"
                    } else {
                        "APNS/loyalty-ios"
                    };
                    Device {
                        fcm: format!("{}{}", r.token(11), r.token(11)),
                        sns: format!(
                            "arn:aws:sns:eu-central-1:111122223333:endpoint/{plat}/{}",
                            r.uuid()
                        ),
                        onesignal: r.uuid(),
                        platform,
                    }
                })
                .collect();
            customers.push(Customer {
                id: format!("{}", 100_001 + i),
                created,
                email: format!(
                    "{}.{}{}@mail.example",
                    first.to_ascii_lowercase(),
                    last.to_ascii_lowercase(),
                    r.below(100)
                ),
                name: format!("{first} {last}"),
                phone: format!("+38067{:07}", r.below(10_000_000)),
                devices,
                ip: format!(
                    "100.{}.{}.{}",
                    64 + r.below(60),
                    r.below(256),
                    1 + r.below(254)
                ),
                ua: APP_UAS[r.below(APP_UAS.len() as u64) as usize],
                balance: r.range(0, 3000),
            });
        }
        // Attacker-owned accounts: ordinary-looking registrations before the attack.
        let mut attacker_owned = Vec::new();
        for k in 0..2 {
            let idx = n - 1 - k;
            customers[idx].created = start + D + (9 + 3 * k as i64) * H;
            customers[idx].ip = "192.0.2.200".into();
            customers[idx].balance = 0;
            attacker_owned.push(idx);
        }
        World {
            start,
            days,
            drained: Vec::new(),
            compensation: false,
            noise: None,
            attack_day: 3,
            attack_at: (3 * H + 5 * M + 17 * S, 9 * H + 41 * M + 3 * S),
            scale,
            customers,
            staff: vec![
                Staff { principal: "o.kovalenko@loyalty-staff.example" },
                Staff { principal: "m.petrenko@loyalty-staff.example" },
                Staff { principal: "i.shevchenko@loyalty-staff.example" },
            ],
            attacker_owned,
            stuffing_ips: ["203.0.113.14", "203.0.113.27", "203.0.113.81"]
                .map(String::from)
                .to_vec(),
            idor: false,
            hijack: false,
            injection: false,
            direct: false,
            wave2_ip: "192.0.2.77",
            wave2_ua: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
            stolen: "m.petrenko@loyalty-staff.example",
            office: vec!["198.51.100.10", "198.51.100.11"],
            end: start + 4 * D + 9 * H,
            evil: (
                "Увага! / Attention!".to_string(),
                "Your data is ours. This brand is a joke — =HYPERLINK(\"http://evil.example\") <script>alert(1)</script>".to_string(),
            ),
            tagged: true,
            names: Default::default(),
        }
    }
}
