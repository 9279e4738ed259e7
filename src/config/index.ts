export { configSchema, type Config, type ConfigInput } from './schema.js'
export { loadConfig, validateConfig, envNames, DEFAULT_CONFIG_FILE, type LoadOptions } from './load.js'
