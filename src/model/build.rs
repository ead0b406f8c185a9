//! From a topology's [`ModelConfig`] to a live model: which one to use ([`choose_model`]) and
//! how it is built ([`build_model`]).
//!
//! An HTTP model is the provider's client wrapped, inside out, in a [`Timeout`] per attempt,
//! a [`ConcurrencyLimit`] shared by everything that uses the model, and [`Retry`]. The key is
//! read from the environment variable the config names, only as an [`ApiKey`]; only the
//! variable's name ever shows in messages.

use std::sync::Arc;
use std::time::Duration;

use super::chat::ChatCompletions;
use super::provider::{extra_collision, sets_field};
use super::responses::OpenAiResponses;
use super::secret::redact_url;
use super::{
    ApiKey, ConcurrencyLimit, Model, ModelConfig, ModelError, Provider, Retry, RetryPolicy,
    SharedModel, Timeout,
};

/// The base URL used when neither the topology nor `OPENAI_BASE_URL` gives one.
pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";
/// The environment variable that redirects every HTTP model (a local server, a proxy).
pub const BASE_URL_ENV: &str = "OPENAI_BASE_URL";
/// Per-attempt timeout when the topology sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(300);
/// Requests in flight per model when the topology sets no cap.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 64;

/// What to run an agent's model with.
#[derive(Debug)]
#[non_exhaustive]
pub enum ModelChoice {
    /// A live HTTP model.
    Http {
        /// The model, with retries, timeout and in-flight cap.
        model: SharedModel,
        /// One line for the user: provider, model name, base URL (never the key).
        description: String,
    },
    /// The topology's scripted turns, and why.
    Scripted {
        /// Why no live model is used (`OPENAI_API_KEY is not set`, `--offline`).
        reason: String,
    },
}

/// Picks the model for `config` from the environment: the live model when the config's key
/// variable is set (at the base URL in `OPENAI_BASE_URL` when that is set), else the scripted
/// turns. `offline` forces the scripted turns.
///
/// # Errors
///
/// [`ModelError::Config`] when the live model cannot be built (no model name).
pub fn choose_model(config: &ModelConfig, offline: bool) -> Result<ModelChoice, ModelError> {
    if offline {
        return Ok(ModelChoice::Scripted {
            reason: "--offline".to_owned(),
        });
    }
    if config.provider == Provider::Scripted {
        return Ok(ModelChoice::Scripted {
            reason: format!("model `{}` is scripted", config.name),
        });
    }
    let Some(key) = ApiKey::from_env(&config.api_key_env) else {
        // Set but blank is a different mistake from not set (an `export KEY=` with nothing
        // after it): say which. See: issue 9
        let how = match std::env::var_os(&config.api_key_env) {
            Some(_) => "is empty",
            None => "is not set",
        };
        return Ok(ModelChoice::Scripted {
            reason: format!("{} {how}", config.api_key_env),
        });
    };
    let base_url = std::env::var(BASE_URL_ENV)
        .ok()
        .filter(|url| !url.trim().is_empty());
    let (model, description) = live_model(config, Some(key), base_url.as_deref())?;
    Ok(ModelChoice::Http { model, description })
}

/// The live model `config` describes ([`build_model`]), with the line that says which model
/// it is and where (the URL without user info, never the key).
///
/// # Errors
///
/// As [`build_model`].
pub fn live_model(
    config: &ModelConfig,
    key: Option<ApiKey>,
    base_url_override: Option<&str>,
) -> Result<(SharedModel, String), ModelError> {
    let model = build_model(config, key, base_url_override)?;
    let description = format!(
        "{} `{}` at {}",
        match config.provider {
            Provider::Chat => "chat completions",
            _ => "responses",
        },
        config.model.as_deref().unwrap_or_default(),
        redact_url(base_url_of(config, base_url_override))
    );
    Ok((model, description))
}

/// Builds the live model `config` describes, with `key` and, when given, another base URL.
///
/// # Errors
///
/// [`ModelError::Config`] for a scripted config (it has no HTTP form), a config without a
/// model name, a base URL that is not `http(s)://` or cannot be parsed, or `extra` settings
/// that would override a field Baton sets itself.
pub fn build_model(
    config: &ModelConfig,
    key: Option<ApiKey>,
    base_url_override: Option<&str>,
) -> Result<SharedModel, ModelError> {
    let problem = |reason: String| ModelError::Config {
        model: config.name.clone(),
        reason,
    };
    let base_url = base_url_of(config, base_url_override).trim();
    if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
        return Err(problem(format!(
            "base URL `{}` must start with http:// or https://",
            redact_url(base_url)
        )));
    }
    // A URL that cannot be parsed fails now, once, not on every attempt of every request.
    match reqwest::Url::parse(base_url) {
        Ok(url) if url.host_str().is_some_and(|h| !h.is_empty()) => {}
        Ok(_) => {
            let url = redact_url(base_url);
            return Err(problem(format!("base URL `{url}` has no host")));
        }
        Err(e) => {
            let url = redact_url(base_url);
            return Err(problem(format!("base URL `{url}` cannot be parsed: {e}")));
        }
    }
    let name = config.model.as_deref().ok_or_else(|| {
        problem("no `model:` name (e.g. `gpt-4.1-mini`) is configured".to_owned())
    })?;
    if let Some(key) = config
        .settings
        .extra
        .keys()
        .find(|k| sets_field(config.provider, k))
    {
        return Err(problem(extra_collision(key)));
    }
    let label = format!(
        "model `{}` ({name} at {})",
        config.name,
        redact_url(base_url)
    );
    match config.provider {
        Provider::Openai => Ok(wrap(
            OpenAiResponses::new(base_url, name, key)
                .with_name(&config.name)
                .with_settings(config.settings.clone())
                .with_streaming(config.stream)
                .with_compat(config.compat)
                .with_images(config.images),
            config,
            label,
        )),
        Provider::Chat => Ok(wrap(
            ChatCompletions::new(base_url, name, key)
                .with_name(&config.name)
                .with_settings(config.settings.clone())
                .with_streaming(config.stream)
                .with_compat(config.compat)
                .with_images(config.images),
            config,
            label,
        )),
        _ => Err(problem(
            "a scripted model has no HTTP client; use the topology's scripted model".to_owned(),
        )),
    }
}

/// Where `config`'s model is reached: the override (`OPENAI_BASE_URL`), else the config's
/// `base_url`, else [`DEFAULT_BASE_URL`].
fn base_url_of<'a>(config: &'a ModelConfig, base_url_override: Option<&'a str>) -> &'a str {
    base_url_override
        .or(config.base_url.as_deref())
        .unwrap_or(DEFAULT_BASE_URL)
}

/// Timeout per attempt, in-flight cap, retries, from the config's limits.
fn wrap<M: Model>(model: M, config: &ModelConfig, label: String) -> SharedModel {
    wrap_with(model, config.limits, label)
}

/// Timeout per attempt, in-flight cap, retries, from `limits` (a simulation wraps its models
/// as live ones are wrapped).
pub(crate) fn wrap_with<M: Model>(
    model: M,
    limits: super::ModelLimits,
    label: String,
) -> SharedModel {
    let timeout = Timeout::new(model, limits.timeout.unwrap_or(DEFAULT_TIMEOUT), label);
    let limited = ConcurrencyLimit::new(
        timeout,
        limits.max_in_flight.unwrap_or(DEFAULT_MAX_IN_FLIGHT),
    );
    let policy = RetryPolicy {
        max_retries: limits
            .max_retries
            .unwrap_or(RetryPolicy::default().max_retries),
        ..RetryPolicy::default()
    };
    Arc::new(Retry::new(limited, policy))
}
