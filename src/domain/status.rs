//! Where a registration is in its life cycle.

/// `pending` → (confirm) → `confirmed` → (unsubscribe) → `unsubscribed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Pending,
    Confirmed,
    Unsubscribed,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Pending, Status::Confirmed, Status::Unsubscribed];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Confirmed => "confirmed",
            Status::Unsubscribed => "unsubscribed",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a registration is unsubscribed (`registrations.unsubscribe_reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnsubscribeReason {
    /// The person, or an organiser for them.
    User,
    /// Their address bounced hard (or softly on three days).
    Bounced,
    /// They marked our mail as spam.
    Complaint,
}

impl UnsubscribeReason {
    pub fn as_str(self) -> &'static str {
        match self {
            UnsubscribeReason::User => "user",
            UnsubscribeReason::Bounced => "bounced",
            UnsubscribeReason::Complaint => "complaint",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::User, Self::Bounced, Self::Complaint]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}
