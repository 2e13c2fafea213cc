//! Zhongfu's domain: the rules of social assistance, free of HTTP and SQL.
//!
//! Values that come from outside are parsed once at the edge into the types
//! here (`IdNumber`, `DivisionCode`, `Fen`…); once you hold one it is valid.

pub mod access;
pub mod audit;
pub mod day;
pub mod demo;
pub mod division;
pub mod error;
pub mod id_number;
pub mod identity;
pub mod ledger;
pub mod money;
pub mod password;
pub mod pii;
pub mod policy;
pub mod registry;
pub mod signin;
pub mod totp;

pub use access::Scope;
pub use division::{DivisionCode, DivisionLevel};
pub use error::UserError;
pub use id_number::{IdNumber, Sex};
pub use money::Fen;
