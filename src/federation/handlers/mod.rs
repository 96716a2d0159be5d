//! The HTTP side of federation: what answers at each address (actors, objects, collections,
//! inboxes, WebFinger, NodeInfo), apart from what the activities do. Each handler reads the
//! request, asks `forum` or the builders in `federation`, and answers ActivityPub JSON.

pub mod actors;
pub mod inbox;
pub mod nodeinfo;
pub mod objects;
