//! Headers lettre does not define: RFC 3834 `Auto-Submitted`, the RFC 2369 /
//! RFC 8058 list headers, RFC 2919 `List-Id` and `Precedence: bulk`.

use lettre::message::header::{Header, HeaderName, HeaderValue};

macro_rules! text_header {
    ($type:ident, $name:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $type(pub String);

        impl Header for $type {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }

            fn parse(text: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Ok(Self(text.to_owned()))
            }

            fn display(&self) -> HeaderValue {
                HeaderValue::new(Self::name(), self.0.clone())
            }
        }
    };
}

text_header!(AutoSubmitted, "Auto-Submitted");
text_header!(ListUnsubscribe, "List-Unsubscribe");
text_header!(ListUnsubscribePost, "List-Unsubscribe-Post");
text_header!(ListId, "List-Id");
text_header!(Precedence, "Precedence");
