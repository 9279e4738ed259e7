export { ActiveVariants, type VariantStatus } from './active-variants.js'
export type { Router } from './router.js'
export { BudgetRouter, type RoutingPolicy } from './budget-router.js'
