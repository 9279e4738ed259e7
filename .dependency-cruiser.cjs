// The import rules of src/ (npm test runs them through test/depcheck.test.ts): no cycles, only
// the transport folders import the transport libraries, and a folder is entered through its
// index.ts. A violation names the importing file and the imported one.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      severity: 'error',
      comment: 'Dependencies point one way: http/grpc → oip → routing → batching → models, events → monitor → policy.',
      from: {},
      to: { circular: true }
    },
    {
      name: 'transport-libraries-in-transport-folders',
      severity: 'error',
      comment: 'Only src/http/ (and src/grpc/) know fastify and @grpc; the rest is transport-free.',
      from: { path: '^src/', pathNot: '^src/(http|grpc)/' },
      to: { path: 'node_modules/(fastify|@fastify|@grpc)/' }
    },
    {
      name: 'oip-between-transports-and-core',
      severity: 'error',
      comment: 'src/oip/ is the protocol both transports share: it sits below http/grpc (and the CLI and composition roots) and above routing, batching, models.',
      from: { path: '^src/oip/' },
      to: { path: ['^src/(http|grpc|cli)/', '^src/[^/]+\\.ts$'], pathNot: ['^src/errors\\.ts$', '^src/clock\\.ts$', '^src/prediction-id\\.ts$', '^src/logger\\.ts$'] }
    },
    {
      name: 'oip-used-by-transports',
      severity: 'error',
      comment: 'Only the transports speak the protocol: the rest of src/ does not import src/oip/.',
      from: { path: '^src/', pathNot: '^src/(http|grpc|oip)/' },
      to: { path: '^src/oip/' }
    },
    {
      name: 'enter-folders-through-index',
      severity: 'error',
      comment: 'A folder of src/ is used by the others only through its index.ts.',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/([^/]+)/.+', pathNot: ['^src/$1/', '^src/[^/]+/index\\.ts$'] }
    },
    {
      name: 'root-files-enter-folders-through-index',
      severity: 'error',
      comment: 'The composition roots in src/ use a folder only through its index.ts too.',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/.+', pathNot: '^src/[^/]+/index\\.ts$' }
    }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
    extraExtensionsToScan: ['.mjs']
  }
}
