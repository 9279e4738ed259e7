import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { validateManifest } from '../../src/models/index.js'
import { FeatureEncoder, GroupIndex } from '../../src/models/index.js'
import { INCOME_DIR } from '../helpers/gateway.js'

const good = parse(readFileSync(join(INCOME_DIR, 'model.yaml'), 'utf8'))
const clone = (): any => structuredClone(good)

t.test('the bundled manifest validates', async t => {
  const m = validateManifest(clone())
  t.equal(m.name, 'income')
  t.same(Object.keys(m.groups), ['sex', 'race'])
})

t.test('a broken manifest is refused naming the field', async t => {
  const cases: Array<[string, (m: any) => void, RegExp]> = [
    ['width', m => { m.input.width += 1 }, /input\.width/],
    ['sha', m => { m.variants[0].sha256 = 'xyz' }, /variants\.0\.sha256/],
    ['dup variant', m => { m.variants[1].name = m.variants[0].name }, /variants\.1\.name/],
    ['kind', m => { m.features[0].kind = 'text' }, /features\.0/],
    ['std', m => { m.features[0].std = 0 }, /features\.0\.std/],
    ['bins', m => { m.baseline.groups.sex.Female.histogram.pop() }, /baseline\.groups\.sex\.Female\.histogram/],
    ['threshold', m => { m.threshold = 2 }, /threshold/],
    ['group rule first', m => { m.variants[0].decision = m.variants.find((v: any) => v.decision.by_group).decision }, /variants\.0\.decision.*must not decide by group/],
    ['group rule attribute', m => { m.variants.find((v: any) => v.decision.by_group).decision.by_group.attribute = 'age' }, /decision\.by_group\.attribute.*not a group attribute/],
    ['group rule value', m => { m.variants.find((v: any) => v.decision.by_group).decision.by_group.thresholds.Other = 0.5 }, /thresholds\.Other.*not a value of "sex"/],
    ['group rule range', m => { m.variants.find((v: any) => v.decision.by_group).decision.by_group.default = 1.5 }, /decision/],
    ['batch size zero', m => { m.variants[1].max_batch_size = 0 }, /variants\.1\.max_batch_size/],
    ['batch size past its bound', m => { m.variants[1].max_batch_size = 65_537 }, /variants\.1\.max_batch_size/],
    ['batch size fractional', m => { m.variants[1].max_batch_size = 12.5 }, /variants\.1\.max_batch_size/],
    ['shared file, other sha', m => { m.variants.find((v: any) => v.name === 'full-eo').sha256 = '0'.repeat(64) }, /sha256.*differs from another variant of file "full\.onnx"/]
  ]
  for (const [name, mutate, re] of cases) {
    const m = clone()
    mutate(m)
    t.throws(() => validateManifest(m, 'x.yaml'), { code: 'FG_ERR_MODEL_MANIFEST', message: re }, name)
  }
})

t.test('encoder: unknown categories use the unknown bucket, bad fields are named', async t => {
  const enc = new FeatureEncoder([
    { name: 'a', kind: 'numeric', mean: 1, std: 2, log1p: false },
    { name: 'b', kind: 'categorical', vocabulary: ['x', 'y'] },
    { name: 'c', kind: 'numeric', mean: 0, std: 1, log1p: true }
  ])
  t.equal(enc.width, 5)
  const out = new Float32Array(5)
  enc.encode({ a: 5, b: 'y', c: Math.E - 1 }, out, 0, 'features')
  t.same([...out], [2, 0, 1, 0, 1])
  enc.encode({ a: 1, b: '?', c: 0 }, out, 0, 'features')
  t.same([...out], [0, 0, 0, 1, 0], '? goes to the unknown bucket')
  t.throws(() => enc.encode({ b: 'x', c: 0 }, out, 0, 'features'), { statusCode: 400, message: /features\.a: is required/ })
  t.throws(() => enc.encode({ a: '3', b: 'x', c: 0 }, out, 0, 'instances[2]'), { message: /instances\[2\]\.a: must be a finite number/ })
  t.throws(() => enc.encode({ a: 1, b: 7, c: 0 }, out, 0, 'features'), { message: /features\.b: must be a string/ })
})

t.test('group labels are interned and validated without echoing values', async t => {
  const g = new GroupIndex({ sex: ['Female', 'Male'], race: ['A', 'B'] })
  const ids = new Int16Array(2)
  g.parse({ race: 'B' }, ids, 0, 'group')
  t.same([...ids], [-1, 1])
  t.same(g.labels(ids, 0), { race: 'B' })
  t.throws(() => g.parse({ gender: 'x' }, ids, 0, 'group'), { statusCode: 400, message: /group\.gender: unknown group attribute/ })
  const err = t.throws(() => g.parse({ sex: 'Secret-Value' }, ids, 0, 'group')) as Error
  t.notMatch(err.message, /Secret-Value/, 'the label value is not echoed')
  t.throws(() => g.parse('Female', ids, 0, 'group'), { statusCode: 400, message: /group: must be an object/ })
})
