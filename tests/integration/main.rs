//! One integration test binary (ripgrep style): each module covers one capability.
mod smoke;
