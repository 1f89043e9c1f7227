//! Amazon SNS mobile-push delivery status logs (CloudWatch JSON, raw or exported; the
//! envelope is unwrapped before this parser sees a record).

use super::json::{object, s, u};
use super::{FileCtx, Head, Parsed, Parser};
use crate::model::{Event, Outcome, SourceKind};
use crate::timeparse::{parse_iso, AssumeTz};

/// SNS delivery status.
pub struct Sns;

impl Parser for Sns {
    fn name(&self) -> &'static str {
        "sns-delivery"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "JSON with status SUCCESS/FAILURE, notification.messageId and delivery.destination arn:aws:sns:"
    }
    fn example(&self) -> &'static str {
        r#"{"status":"SUCCESS","notification":{"timestamp":"2024-03-05 14:25:00.41","messageId":"5e3c…"},"delivery":{"statusCode":200,"destination":"arn:aws:sns:eu-west-1:111122223333:endpoint/GCM/shop-android/0c9b…"}}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        super::line_score(head, |l| {
            l.contains("\"notification\"") && l.contains("\"delivery\"") && l.contains("\"status\"")
        })
    }
    fn parse(&self, rec: &str, _ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let v = match object(rec) {
            Ok(v) => v,
            Err(e) => return Parsed::Reject(e),
        };
        // notification.timestamp is UTC without a zone by definition (not an assumption).
        let Some(p) =
            s(&v, "notification.timestamp").and_then(|t| parse_iso(&t, &AssumeTz::Fixed(0)))
        else {
            return Parsed::Reject("bad or missing notification.timestamp".into());
        };
        let mut e = Event::new(SourceKind::Push, self.name());
        e.ts = p.us;
        e.push_mut().message_id = s(&v, "notification.messageId");
        if e.push().message_id.is_none() {
            return Parsed::Reject("no notification.messageId".into());
        }
        e.push_mut().device_id = s(&v, "delivery.destination");
        let status = s(&v, "status").unwrap_or_default();
        e.outcome = match status.as_str() {
            "SUCCESS" => Outcome::Success,
            "FAILURE" => Outcome::Failure,
            _ => Outcome::Unknown,
        };
        e.push_mut().delivery = Some(status);
        if let Some(t) = s(&v, "notification.topicArn") {
            e.push_mut().push_target = Some(format!("topic:{t}").into());
        }
        if let Some(c) = u(&v, "delivery.statusCode") {
            e.status = Some(c as u16);
        }
        for (k, p) in [
            ("provider_response", "delivery.providerResponse"),
            ("dwell_time_ms", "delivery.dwellTimeMs"),
            ("attempts", "delivery.attempts"),
            ("token", "delivery.token"),
        ] {
            if let Some(x) = s(&v, p) {
                e.extra.insert(k, x);
            }
        }
        Parsed::Event(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_record() {
        let l = r#"{"status":"FAILURE","notification":{"timestamp":"2024-03-05 14:31:44.9","messageId":"8a7b6c5d"},"delivery":{"statusCode":410,"dwellTimeMs":212,"attempts":1,"providerResponse":"{\"reason\":\"Unregistered\"}","destination":"arn:aws:sns:eu-west-1:111122223333:endpoint/APNS/shop-ios/4d3c"}}"#;
        let Parsed::Event(e) = Sns.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.ts, 1_709_649_104_900_000);
        assert_eq!(e.outcome, Outcome::Failure);
        assert!(e.push().device_id.as_deref().unwrap().ends_with("4d3c"));
        assert!(matches!(
            Sns.parse("{\"status\":\"SUCCESS\"}", &FileCtx::default()),
            Parsed::Reject(_)
        ));
    }
}
