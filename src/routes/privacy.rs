//! The default privacy notice.

use crate::web::pages::MessagePage;
use crate::web::render;
use crate::web::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};

/// `GET /privacy`: what is kept and why. Groups with their own notice set `group.privacy_url`.
pub async fn privacy(state: web::Data<AppState>) -> HttpResponse {
    let contact = format!(
        "To ask what we hold about you, or to have it erased, use the manage form on the check page or write to {}.",
        state.settings.group.contact_email
    );
    let page = MessagePage::new(
        state.settings.group.clone(),
        "Privacy notice",
        &[
            "When you register we keep the details you type (email address, name, and optionally organisation, its type, country, time zone and interests), when you agreed and to which wording, and the network address and browser name your request came from, as a record of your consent.",
            "We use them only to run this mailing list and to plan the group's events. We never sell or share them.",
            "Registrations never confirmed are deleted automatically. Every email has a link to unsubscribe, and you can have all your data erased at any time.",
            &contact,
        ],
    );
    render::page(StatusCode::OK, &page)
}
