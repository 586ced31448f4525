import { packageTests } from '../../vitest.shared.ts'

// supernet tests train tiny networks: allow for a busy machine
export default packageTests({ testTimeout: 90_000 })
