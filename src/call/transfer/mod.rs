//! Live transfer to a person: replace the call's TwiML with `<Dial>` to the configured
//! number; the person who answers first hears a spoken brief of the call, served from
//! `/whisper/{callSid}` (the `url` of the dialled `<Number>`).

pub mod twilio_rest;

use crate::telephony::twiml;
pub use twilio_rest::{RestError, TwilioRest};

/// Where and how to transfer calls.
#[derive(Clone)]
pub struct Transfer {
    pub rest: TwilioRest,
    /// E.164 number to dial.
    pub number: String,
    /// Public base URL (`https://host`) for the whisper route.
    pub public_url: String,
}

impl Transfer {
    /// Dial the person; the brief is fetched by Twilio from the whisper URL.
    pub async fn transfer(&self, call_sid: &str) -> Result<(), RestError> {
        let whisper = format!(
            "{}/whisper/{}",
            self.public_url.trim_end_matches('/'),
            call_sid
        );
        let doc = twiml::dial(&self.number, None, Some(&whisper));
        self.rest.update_call_twiml(call_sid, &doc).await
    }
}
