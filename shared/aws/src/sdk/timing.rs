//! How long each AWS call takes, as the function sees it: an SDK interceptor installed on every client
//! ([`super::AwsClients`]) that logs one debug event per operation, from before serialization to after the
//! response is deserialized (signing, retries and the connection included).
//!
//! Off by default (debug level); `RUST_LOG=info,tripline::aws::calls=debug` turns it on. The benchmarks use
//! it to compare a handler's time with the slowest dependent chain of its calls (BENCHMARKS.md, section 3),
//! and an operator can use it to see which dependency is slow.

use std::time::Instant;

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeSerializationInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

/// The log target of the per-call events.
pub const CALLS_TARGET: &str = "tripline::aws::calls";

/// The interceptor: stateless, cheap to install on every client.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallTiming;

/// When the operation started (kept in the operation's own config bag).
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallTiming {
    fn name(&self) -> &'static str {
        "TriplineCallTiming"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if tracing::enabled!(target: CALLS_TARGET, tracing::Level::DEBUG) {
            cfg.interceptor_state().store_put(Started(Instant::now()));
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(Started(started)) = cfg.load::<Started>().copied() else {
            return Ok(());
        };
        let elapsed_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let (service, operation) = cfg
            .load::<Metadata>()
            .map(|m| (m.service().to_owned(), m.name().to_owned()))
            .unwrap_or_default();
        let ok = matches!(context.output_or_error(), Some(Ok(_)));
        tracing::debug!(target: CALLS_TARGET, service, operation, elapsed_us, ok, "aws call");
        Ok(())
    }
}
