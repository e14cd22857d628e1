//! The JSON routes under `/api/` and their OpenAPI 3.1 description. One table,
//! [`json_routes`], both mounts each route and documents it: the path and method
//! come from the handler's own `#[utoipa::path]`, so the two cannot disagree.

use super::{bounces, signup};
use crate::web::body::SignupRequest;
use crate::web::json_errors::json_errors;
use crate::web::responses::ErrorBody;
use actix_web::dev::HttpServiceFactory;
use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{FromRequest, Handler, HttpResponse, Responder, web};
use utoipa::openapi::path::{HttpMethod, PathsBuilder};
use utoipa::{OpenApi, Path};

/// Where the JSON routes are mounted; every route in the table starts with it.
const PREFIX: &str = "/api";

/// Every JSON route, once. Add a route here and it is mounted and documented.
fn json_routes(table: &mut impl RouteTable) {
    table.add::<signup::__path_submit_api, _, _>(signup::submit_api);
    table.add::<bounces::__path_receive, _, _>(bounces::receive);
    table.add::<__path_document, _, _>(document);
}

/// What [`json_routes`] is read into: the mounted scope or the document.
trait RouteTable {
    fn add<P, F, Args>(&mut self, handler: F)
    where
        P: Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static;
}

/// The `/api` scope: the routes, JSON errors around them and a JSON 404.
pub fn scope() -> impl HttpServiceFactory {
    web::scope(PREFIX)
        .wrap(from_fn(json_errors))
        .configure(|cfg| json_routes(&mut Mount(cfg)))
        .default_service(web::to(HttpResponse::NotFound))
}

struct Mount<'a>(&'a mut web::ServiceConfig);

impl RouteTable for Mount<'_> {
    fn add<P, F, Args>(&mut self, handler: F)
    where
        P: Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        let path = P::path();
        let within_scope = path.strip_prefix(PREFIX).unwrap_or(&path).to_owned();
        for method in P::methods() {
            self.0.route(
                &within_scope,
                web::method(actix_method(&method)).to(handler.clone()),
            );
        }
    }
}

fn actix_method(method: &HttpMethod) -> Method {
    match method {
        HttpMethod::Get => Method::GET,
        HttpMethod::Post => Method::POST,
        HttpMethod::Put => Method::PUT,
        HttpMethod::Delete => Method::DELETE,
        HttpMethod::Options => Method::OPTIONS,
        HttpMethod::Head => Method::HEAD,
        HttpMethod::Patch => Method::PATCH,
        HttpMethod::Trace => Method::TRACE,
    }
}

#[derive(Default)]
struct Document(PathsBuilder);

impl RouteTable for Document {
    fn add<P, F, Args>(&mut self, _: F)
    where
        P: Path,
        F: Handler<Args>,
        Args: FromRequest + 'static,
        F::Output: Responder + 'static,
    {
        self.0 = std::mem::take(&mut self.0).path_from::<P>();
    }
}

/// The document's frame: title and version from Cargo.toml, and the shared schemas.
#[derive(OpenApi)]
#[openapi(components(schemas(
    SignupRequest,
    signup::SignupAccepted,
    signup::SignupStatus,
    signup::InvalidSignup,
    bounces::BounceAccepted,
    ErrorBody
)))]
struct Frame;

/// The OpenAPI 3.1 description of every JSON route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = Document::default();
    json_routes(&mut document);
    let mut api = Frame::openapi();
    api.paths = document.0.build();
    api
}

/// `GET /api/v1/openapi.json`: this API's OpenAPI 3.1 description.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 description of every JSON route", body = Object, content_type = "application/json"))
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok().json(openapi())
}
