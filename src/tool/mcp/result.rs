//! What the model reads of an MCP tool result.
//!
//! Text blocks are kept as they are (structured content is then not repeated: servers give
//! its text form too); structured content alone becomes JSON; an image, audio clip or binary resource becomes a reference
//! with its type and size (`[image: image/png, 1234 bytes]`), never base64 in the text (an
//! image also travels beside the text, and reaches a model whose entry says it takes images);
//! an embedded text resource is its text under its URI; a resource link names its URI. A
//! result flagged `isError` is the call's error output.

use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde_json::Value;

use crate::item::Image;
use crate::tool::ToolOutput;

/// What a call with no content at all reads as.
const NO_CONTENT: &str = "(the tool returned no content)";

/// The output of a result, or the error text of an `isError` one.
pub(crate) fn read(result: CallToolResult) -> Result<ToolOutput, String> {
    let failed = result.is_error == Some(true);
    let has_text = result
        .content
        .iter()
        .any(|block| matches!(block, ContentBlock::Text(_)));
    let sole_text_is_structured = match (result.content.as_slice(), &result.structured_content) {
        ([ContentBlock::Text(text)], Some(structured)) => {
            serde_json::from_str::<Value>(&text.text).is_ok_and(|v| &v == structured)
        }
        _ => false,
    };
    let images: Vec<Image> = result
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Image(image) => Some(Image {
                mime_type: image.mime_type.clone(),
                data: image.data.clone(),
            }),
            _ => None,
        })
        .collect();
    let mut parts: Vec<String> = result.content.into_iter().map(describe).collect();
    let output = match result.structured_content {
        Some(value) if parts.is_empty() || sole_text_is_structured => ToolOutput::Json(value),
        // Text is what the server meant to be read (the spec asks servers to repeat
        // structured content as text); without any, the structured content is appended.
        Some(value) if !has_text => {
            parts.push(format!("structured content: {value}"));
            ToolOutput::Text(parts.join("\n"))
        }
        _ if parts.is_empty() => ToolOutput::text(NO_CONTENT),
        _ => ToolOutput::Text(parts.join("\n")),
    };
    if failed {
        Err(output.into_text())
    } else if images.is_empty() {
        Ok(output)
    } else {
        Ok(ToolOutput::WithImages {
            text: output.into_text(),
            images,
        })
    }
}

/// One content block as text.
fn describe(block: ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text,
        ContentBlock::Image(image) => {
            format!(
                "[image: {}, {} bytes]",
                image.mime_type,
                decoded_len(&image.data)
            )
        }
        ContentBlock::Audio(audio) => {
            format!(
                "[audio: {}, {} bytes]",
                audio.mime_type,
                decoded_len(&audio.data)
            )
        }
        ContentBlock::Resource(embedded) => match embedded.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[resource {uri}]\n{text}")
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "[resource {uri}: {}, {} bytes]",
                mime_type.as_deref().unwrap_or("application/octet-stream"),
                decoded_len(&blob)
            ),
            other => serde_json::to_string(&other).unwrap_or_default(),
        },
        ContentBlock::ResourceLink(link) => {
            let mut text = format!("[resource link {}: {}", link.uri, link.name);
            if let Some(mime) = &link.mime_type {
                text.push_str(&format!(", {mime}"));
            }
            if let Some(size) = link.size {
                text.push_str(&format!(", {size} bytes"));
            }
            text.push(']');
            if let Some(description) = link.description {
                text.push_str(&format!(" {description}"));
            }
            text
        }
        // A kind of block newer than this client: its JSON, so nothing is lost.
        other => serde_json::to_string(&other).unwrap_or_default(),
    }
}

/// The number of bytes base64 `data` decodes to (whitespace ignored).
fn decoded_len(data: &str) -> usize {
    let chars = data.bytes().filter(|b| !b.is_ascii_whitespace()).count();
    let padding = data.bytes().rev().take_while(|&b| b == b'=').count();
    (chars / 4 * 3 + (chars % 4).saturating_sub(1)).saturating_sub(padding)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::CallToolResult;
    use serde_json::json;

    fn result(value: Value) -> CallToolResult {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn text_blocks_are_joined_by_lines() {
        let r = result(
            json!({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}),
        );
        assert_eq!(read(r).unwrap().into_text(), "a\nb");
    }

    #[test]
    fn an_image_is_a_reference_with_its_type_and_size_not_base64() {
        // "aGVsbG8=" is "hello": 5 bytes.
        let r = result(
            json!({"content": [{"type": "image", "data": "aGVsbG8=", "mimeType": "image/png"}]}),
        );
        let output = read(r).unwrap();
        let ToolOutput::WithImages { images, .. } = &output else {
            panic!("{output:?}");
        };
        let expected = Image {
            mime_type: "image/png".into(),
            data: "aGVsbG8=".into(),
        };
        assert_eq!(images, &[expected]);
        assert_eq!(output.into_text(), "[image: image/png, 5 bytes]");
    }

    #[test]
    fn structured_content_is_shown_once() {
        let r = result(json!({
            "content": [{"type": "text", "text": "{\"temp\": 21}"}],
            "structuredContent": {"temp": 21}
        }));
        assert_eq!(read(r).unwrap(), ToolOutput::Json(json!({"temp": 21})));
        let r = result(json!({
            "content": [{"type": "text", "text": "It is warm."}],
            "structuredContent": {"temp": 21}
        }));
        assert_eq!(read(r).unwrap().into_text(), "It is warm.");
        let r = result(json!({
            "content": [{"type": "image", "data": "", "mimeType": "image/png"}],
            "structuredContent": {"temp": 21}
        }));
        assert_eq!(
            read(r).unwrap().into_text(),
            "[image: image/png, 0 bytes]\nstructured content: {\"temp\":21}"
        );
        let r = result(json!({"structuredContent": {"temp": 21}}));
        assert_eq!(read(r).unwrap(), ToolOutput::Json(json!({"temp": 21})));
    }

    #[test]
    fn resources_show_their_uri_and_text_or_size() {
        let r = result(json!({"content": [
            {"type": "resource", "resource": {"uri": "file:///a.txt", "text": "hi"}},
            {"type": "resource", "resource": {"uri": "file:///b.bin", "blob": "AAAA", "mimeType": "application/zip"}},
            {"type": "resource_link", "uri": "file:///c", "name": "c", "size": 7}
        ]}));
        assert_eq!(
            read(r).unwrap().into_text(),
            "[resource file:///a.txt]\nhi\n[resource file:///b.bin: application/zip, 3 bytes]\n[resource link file:///c: c, 7 bytes]"
        );
    }

    #[test]
    fn an_is_error_result_is_an_error_with_its_text() {
        let r =
            result(json!({"content": [{"type": "text", "text": "no such file"}], "isError": true}));
        assert_eq!(read(r).unwrap_err(), "no such file");
    }

    #[test]
    fn decoded_lengths_count_padding() {
        assert_eq!(decoded_len(""), 0);
        assert_eq!(decoded_len("YQ=="), 1);
        assert_eq!(decoded_len("YWI="), 2);
        assert_eq!(decoded_len("YWJj"), 3);
        assert_eq!(decoded_len("YWJj\nZA=="), 4);
    }
}
