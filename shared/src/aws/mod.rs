//! The AWS part: narrow capability traits and their AWS SDK implementations.
