export { ActiveVariants, type VariantStatus } from './active-variants.js'
export { PreferenceRouter, type Router } from './router.js'
