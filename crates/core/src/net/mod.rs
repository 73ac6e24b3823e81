//! The host's side of the wire: raw packet sockets and their receive rings, routes and
//! interfaces, neighbours.

pub mod neighbor;
pub mod ring;
pub mod route;
pub mod socket;
