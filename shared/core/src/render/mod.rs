//! What people read: SNS messages (with the email text) and Slack Block Kit payloads.

pub mod email;
pub mod lifecycle;
pub mod ocsf;
pub mod slack;
pub mod sns;
