//! Hello-world Lambda function: the floor the Tripline functions' cold start is compared against
//! (`make bench`, BENCHMARKS.md). It does what every function must do and nothing else: start the tokio
//! runtime and poll the Lambda runtime API.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

async fn handler(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "hello": "world" }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(handler)).await
}
