//! Reports a failed cold start through the Runtime API's `/init/error`, so Lambda shows a clear message
//! instead of a function that hangs or dies silently.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Posts `{errorType, errorMessage}` to `http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/init/error`.
///
/// # Errors
/// When the Runtime API is not set or cannot be reached.
pub async fn report(error_type: &str, message: &str) -> std::io::Result<()> {
    let api = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .map_err(|_| std::io::Error::other("AWS_LAMBDA_RUNTIME_API is not set"))?;
    let body = serde_json::json!({ "errorType": error_type, "errorMessage": message }).to_string();
    let request = format!(
        "POST /2018-06-01/runtime/init/error HTTP/1.1\r\nHost: {api}\r\nContent-Type: application/json\r\n\
         Lambda-Runtime-Function-Error-Type: {error_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(&api).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await?;
    Ok(())
}
