/**
 * The built-in probe set: where the common providers and CLIs keep their
 * credentials, so `auth-probe check` answers with no configuration. Every
 * entry carries a `label` naming its source (shown by `explain`), and a
 * comment saying who writes it. A user's configuration is laid over it with
 * `mergeProbeConfig` (src/config/merge.ts).
 *
 * Nothing here can prompt: the macOS keychain lookups, which may ask to unlock
 * a keychain, live apart in {@link keychainProbeConfig} and are opt-in.
 */
import { fileURLToPath } from 'node:url';
import type { Probe, ProbeConfig } from './schema.js';

const env = (label: string, ...vars: [string, ...string[]]): Probe => ({ kind: 'env', vars, label });
type FileRules = Omit<Extract<Probe, { kind: 'credentialFile' }>, 'kind' | 'path' | 'label'>;
const file = (label: string, path: string, rules: FileRules): Probe => ({ kind: 'credentialFile', path, ...rules, label });

/**
 * Claude Code's login: an access token and a positive `expiresAt` (ms) are required; usable until then,
 * or for good with a refresh token, which the CLI uses by itself.
 */
const CLAUDE_LOGIN: FileRules = {
  require: ['/claudeAiOauth/accessToken'],
  expiry: { pointer: '/claudeAiOauth/expiresAt', unit: 'ms' },
  refresh: '/claudeAiOauth/refreshToken',
};
/** Google-style OAuth token files (Gemini CLI, Qwen Code, MiniMax portal): access token, refresh token and a numeric expiry, all required. */
const GOOGLE_STYLE_OAUTH: FileRules = {
  require: ['/access_token', '/refresh_token'],
  expiry: { pointer: '/expiry_date', unit: 'ms' },
  refresh: '/refresh_token',
};
/** Codex CLI: a ChatGPT login (access and refresh tokens both) or an API-key login (`OPENAI_API_KEY`, `tokens` then null). */
const CODEX_LOGIN: FileRules = { anyOf: [['/tokens/access_token', '/tokens/refresh_token'], ['/OPENAI_API_KEY']] };

/** Both halves of an AWS key pair must be set: a module probe, shipped next to this file. */
const AWS_KEY_PAIR = fileURLToPath(new URL('../probes/builtin/aws-key-pair.js', import.meta.url));

/**
 * The embedded default configuration: env variables of the common API
 * providers, the credential files the CLIs write, and the OpenClaw
 * gateway's auth-profile store (SQLite, or `auth-profiles.json` before
 * 2026.6). Frozen; `mergeProbeConfig` returns a new object.
 */
export const defaultProbeConfig: ProbeConfig = deepFreeze({
  aliases: {
    'z.ai': 'zai',
    'z-ai': 'zai',
    gemini: 'google',
    'google-gemini': 'google',
    vertex: 'google-vertex',
    'gemini-cli': 'google-gemini-cli',
    codex: 'openai-codex',
    'codex-cli': 'openai-codex',
    bedrock: 'amazon-bedrock',
    'aws-bedrock': 'amazon-bedrock',
    azure: 'azure-openai',
    'azure-openai-responses': 'azure-openai',
    copilot: 'github-copilot',
    'x-ai': 'xai',
    'together-ai': 'together',
    'fireworks-ai': 'fireworks',
    hf: 'huggingface',
  },
  providers: {
    // OpenAI Platform API keys; the official SDKs read OPENAI_API_KEY.
    openai: [env('OpenAI API key', 'OPENAI_API_KEY')],
    // Codex CLI: `codex login` ("Sign in with ChatGPT", or `--with-api-key`) writes auth.json under $CODEX_HOME, default ~/.codex.
    'openai-codex': [file('Codex CLI login ($CODEX_HOME)', '$CODEX_HOME/auth.json', CODEX_LOGIN), file('Codex CLI login', '~/.codex/auth.json', CODEX_LOGIN)],
    // Anthropic API keys and OAuth tokens (ANTHROPIC_*), a token from `claude setup-token`
    // (CLAUDE_CODE_OAUTH_TOKEN), and Claude Code's login file (Linux, Windows; macOS keeps it in
    // the keychain, see keychainProbeConfig). CLAUDE_CONFIG_DIR moves ~/.claude.
    anthropic: [
      env('Anthropic API key or OAuth token', 'ANTHROPIC_API_KEY', 'ANTHROPIC_OAUTH_TOKEN'),
      env('Claude Code setup-token', 'CLAUDE_CODE_OAUTH_TOKEN'),
      file('Claude Code login ($CLAUDE_CONFIG_DIR)', '$CLAUDE_CONFIG_DIR/.credentials.json', CLAUDE_LOGIN),
      file('Claude Code login', '~/.claude/.credentials.json', CLAUDE_LOGIN),
    ],
    // Gemini API (Google AI Studio); the google-genai SDKs read GEMINI_API_KEY or GOOGLE_API_KEY.
    google: [env('Gemini API key', 'GEMINI_API_KEY', 'GOOGLE_API_KEY')],
    // Gemini CLI, "Login with Google": OAuth tokens in ~/.gemini/oauth_creds.json.
    'google-gemini-cli': [file('Gemini CLI login', '~/.gemini/oauth_creds.json', GOOGLE_STYLE_OAUTH)],
    // Vertex AI through Application Default Credentials: the file named by GOOGLE_APPLICATION_CREDENTIALS
    // alone when it is set (Google's libraries do not fall back), else the one `gcloud auth
    // application-default login` writes.
    'google-vertex': [
      file('Google ADC file (GOOGLE_APPLICATION_CREDENTIALS)', '$GOOGLE_APPLICATION_CREDENTIALS', { pointer: '/type' }),
      { ...file('gcloud application-default login', '~/.config/gcloud/application_default_credentials.json', { pointer: '/type' }), unlessEnv: ['GOOGLE_APPLICATION_CREDENTIALS'] },
    ],
    // Amazon Bedrock: a Bedrock API key, an access key pair, or a named profile.
    'amazon-bedrock': [
      env('Bedrock API key', 'AWS_BEARER_TOKEN_BEDROCK'),
      { kind: 'module', module: AWS_KEY_PAIR, label: 'AWS key pair (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)' },
      env('AWS profile', 'AWS_PROFILE'),
    ],
    // Azure OpenAI resource keys.
    'azure-openai': [env('Azure OpenAI API key', 'AZURE_OPENAI_API_KEY')],
    // GitHub Copilot: a token in the env (the Copilot CLI reads COPILOT_GITHUB_TOKEN, then GH_TOKEN,
    // GITHUB_TOKEN), or the OAuth token the Copilot editor plugins keep in hosts.json.
    'github-copilot': [
      env('GitHub token for Copilot', 'COPILOT_GITHUB_TOKEN', 'GH_TOKEN', 'GITHUB_TOKEN'),
      file('Copilot plugin login ($XDG_CONFIG_HOME)', '$XDG_CONFIG_HOME/github-copilot/hosts.json', { pointer: '/github.com/oauth_token' }),
      file('Copilot plugin login', '~/.config/github-copilot/hosts.json', { pointer: '/github.com/oauth_token' }),
    ],
    // Qwen Code, "Qwen OAuth": tokens in ~/.qwen/oauth_creds.json; the gateway's own variables first.
    'qwen-portal': [env('Qwen portal token', 'QWEN_OAUTH_TOKEN', 'QWEN_PORTAL_API_KEY'), file('Qwen Code login', '~/.qwen/oauth_creds.json', GOOGLE_STYLE_OAUTH)],
    // MiniMax portal OAuth: tokens in ~/.minimax/oauth_creds.json; the gateway's own variable first.
    'minimax-portal': [env('MiniMax portal token', 'MINIMAX_OAUTH_TOKEN'), file('MiniMax portal login', '~/.minimax/oauth_creds.json', GOOGLE_STYLE_OAUTH)],
    // API keys, each in the variable the provider's own docs and SDK use.
    mistral: [env('Mistral API key', 'MISTRAL_API_KEY')],
    openrouter: [env('OpenRouter API key', 'OPENROUTER_API_KEY')],
    xai: [env('xAI API key', 'XAI_API_KEY')],
    groq: [env('Groq API key', 'GROQ_API_KEY')],
    deepseek: [env('DeepSeek API key', 'DEEPSEEK_API_KEY')],
    cerebras: [env('Cerebras API key', 'CEREBRAS_API_KEY')],
    together: [env('Together AI API key', 'TOGETHER_API_KEY')],
    fireworks: [env('Fireworks AI API key', 'FIREWORKS_API_KEY')],
    voyage: [env('Voyage AI API key', 'VOYAGE_API_KEY')],
    cohere: [env('Cohere API key', 'COHERE_API_KEY', 'CO_API_KEY')],
    perplexity: [env('Perplexity API key', 'PERPLEXITY_API_KEY')],
    // HF_TOKEN and HUGGING_FACE_HUB_TOKEN are huggingface_hub's; HUGGINGFACE_HUB_TOKEN is the gateway's spelling.
    huggingface: [env('Hugging Face token', 'HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN', 'HUGGINGFACE_HUB_TOKEN')],
    nvidia: [env('NVIDIA API key', 'NVIDIA_API_KEY')],
    moonshot: [env('Moonshot AI API key', 'MOONSHOT_API_KEY')],
    zai: [env('Z.AI API key', 'ZAI_API_KEY', 'Z_AI_API_KEY')],
    minimax: [env('MiniMax API key', 'MINIMAX_API_KEY')],
    'vercel-ai-gateway': [env('Vercel AI Gateway key', 'AI_GATEWAY_API_KEY')],
    opencode: [env('OpenCode Zen API key', 'OPENCODE_API_KEY')],
    venice: [env('Venice AI API key', 'VENICE_API_KEY')],
  },
  // Tried for every provider, after its own probes: the OpenClaw gateway's auth-profile store, where its version
  // keeps it: since 2026.6 the agent's SQLite database over the shared store (per profile id), before that the
  // agent's auth-profiles.json over the main agent's. The state directory is $OPENCLAW_STATE_DIR, else ~/.openclaw.
  // A profile counts only when the gateway could use it (the kind's default `eligibility: "usable"`).
  defaults: [{ kind: 'openclawStore', label: 'OpenClaw auth profile store' }],
});

/** A presence lookup in the login keychain; `security` exits 0 when the item exists, 44 when not. */
const keychain = (label: string, service: string): Probe => ({
  kind: 'command',
  // The absolute path, so a `security` earlier on PATH is never the one run.
  command: '/usr/bin/security',
  // Without `-w`: the item's attributes, not its secret, so no value ever reaches the pipe.
  args: ['find-generic-password', '-s', service],
  timeoutMs: 5000,
  platforms: ['darwin'],
  label,
});

/**
 * The macOS keychain lookups, opt-in (`auth-probe --keychain`, or
 * `mergeProbeConfig(defaultProbeConfig, keychainProbeConfig, { providers: 'extend' })`):
 * `security` may show a dialog to unlock a locked keychain. Skipped elsewhere
 * as `E_PLATFORM_SKIPPED`.
 */
export const keychainProbeConfig: ProbeConfig = deepFreeze({
  providers: {
    // Claude Code on macOS keeps its login in the keychain item "Claude Code-credentials".
    anthropic: [keychain('Claude Code login (macOS keychain)', 'Claude Code-credentials')],
    // Codex CLI with its keyring credential store keeps its login in the item "Codex Auth".
    'openai-codex': [keychain('Codex CLI login (macOS keychain)', 'Codex Auth')],
  },
});

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
