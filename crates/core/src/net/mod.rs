//! The host's side of the wire: raw packet sockets, routes and interfaces, neighbours.

pub mod neighbor;
pub mod route;
pub mod socket;
