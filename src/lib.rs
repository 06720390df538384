pub mod changeset;
pub mod diagnostic;
pub mod edit;
pub mod stack;
pub mod state;
pub mod phase;
