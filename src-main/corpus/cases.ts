/**
 * The bad-input cases. Each states its input and the named error it must get: an HTTP status,
 * a wire `code` and the field or a message fragment (web API), an exit code and a message
 * fragment (CLI), or a problem kind and message fragment (a file inside an imported dataset).
 * `{corpus}` in a path is the generated corpus folder; `{baseline}` is the id of the baseline
 * dataset, imported before the cases run (it must not change).
 */

/** Who the request claims to be. */
export type Auth = 'bearer' | 'none' | 'wrong-token' | 'foreign-origin' | 'foreign-host'

export type CorpusCase = { id: string; area: Area; why: string } & (
  | {
      kind: 'api'
      channel: string
      /** JSON payload, or a raw body string when `raw` is set. */
      body?: unknown
      raw?: string
      auth?: Auth
      expect: { status: number; code: string; field?: string; fragment: string }
    }
  | {
      kind: 'http'
      method: string
      path: string
      headers?: Record<string, string>
      auth?: Auth
      expect: { status: number; fragment: string }
    }
  | { kind: 'cli-import'; path: string; expect: { exit: number; fragment: string } }
  | {
      kind: 'import-problem'
      /** The folder or list imported (into a scratch data folder) and the file the problem names. */
      source: string
      relPath: string
      expect: { problem: string; fragment: string }
    }
)

export type Area = 'images' | 'lists' | 'hyperparameters' | 'ids' | 'media' | 'tokens' | 'payloads'

const train = (extra: Record<string, unknown>): Record<string, unknown> => ({
  datasetId: '{baseline}',
  frozen: true,
  ...extra
})

const image = (
  id: string,
  relPath: string,
  problem: string,
  fragment: string,
  why: string
): CorpusCase => ({
  id,
  area: 'images',
  why,
  kind: 'import-problem',
  source: '{corpus}/images',
  relPath,
  expect: { problem, fragment }
})

export const CASES: CorpusCase[] = [
  // ---- images: each file of corpus/images is named with its problem; the rest is kept
  image(
    'img-truncated-jpeg',
    'mixed/truncated.jpg',
    'corrupt',
    'the file is truncated (the JPEG data stops',
    'cut at 60 %'
  ),
  image(
    'img-truncated-png',
    'mixed/truncated.png',
    'corrupt',
    'the file is truncated (the PNG data stops',
    'IEND missing'
  ),
  image(
    'img-text-as-jpeg',
    'mixed/text.jpg',
    'corrupt',
    'not an image: the file contains text',
    'a text file named .jpg'
  ),
  image('img-zero-byte', 'mixed/empty.png', 'zero-byte', 'empty file (0 bytes)', 'an empty file'),
  image(
    'img-bmp',
    'mixed/old.bmp',
    'unsupported',
    'BMP images cannot be decoded',
    'libvips has no BMP loader'
  ),
  image(
    'img-not-image-ext',
    'mixed/notes.txt',
    'unsupported',
    'not an image file (.txt)',
    'a stray text file'
  ),
  image(
    'img-damaged-data',
    'mixed/scrambled.jpg',
    'corrupt',
    'complete but its image data is damaged',
    'scrambled entropy data, EOI kept'
  ),
  image(
    'img-duplicate',
    'mixed/dup_m0.png',
    'duplicate',
    'same content as mixed/m0.png',
    'the dup_ copy is the one left out'
  ),
  image(
    'img-symlink-out',
    'mixed/escape.png',
    'unreadable',
    'pointing outside the dataset root',
    'symlink to a file outside the root'
  ),
  image(
    'img-bomb',
    'mixed/bomb.png',
    'too-large',
    '16000×16000 (256 megapixels), above the limit of 100 megapixels',
    '750 KB PNG, 768 MB decoded'
  ),
  image(
    'img-empty-class',
    'allbad',
    'empty-class',
    'class has no usable images',
    'every image of the class is bad'
  ),

  // ---- list files
  {
    id: 'list-csv-unterminated-quote',
    area: 'lists',
    why: 'an opening quote on line 5 that is never closed must not swallow the other rows',
    kind: 'import-problem',
    source: '{corpus}/lists/csvset/list.csv',
    relPath: 'list.csv line 5',
    expect: { problem: 'unreadable', fragment: 'list.csv line 5: unterminated quoted field' }
  },
  ...(
    [
      ['list-csv-no-columns', 'lists/nocols/list.csv', 'missing column(s) label, path'],
      ['list-csv-empty', 'lists/emptycsv/list.csv', 'is empty'],
      ['list-csv-header-only', 'lists/headeronly/list.csv', 'list no images'],
      ['list-mat-garbage', 'lists/cars/cars_annos.mat', 'as a MATLAB level-5 MAT-file'],
      ['list-not-a-list', 'lists/notalist/notes.txt', 'cannot import the file'],
      ['list-missing-path', 'does/not/exist', 'no such file or folder'],
      ['list-folder-without-images', 'etc-like', 'no images in the class folders of']
    ] as const
  ).map(([id, path, fragment]): CorpusCase => ({
    id,
    area: 'lists',
    why: 'refused before anything is stored',
    kind: 'cli-import',
    path: `{corpus}/${path}`,
    expect: { exit: 2, fragment }
  })),

  // ---- hyperparameters (runs.start must refuse before queuing anything)
  ...(
    [
      ['hp-epochs-zero', { epochs: 0 }, 'epochs'],
      ['hp-lr-negative', { lr: -1 }, 'lr'],
      ['hp-tau-infinite', { tau: '__INFINITY__' }, 'tau'],
      ['hp-batch-not-int', { batchSize: 3.5 }, 'batchSize'],
      ['hp-unknown-loss', { loss: 'softmax++' }, 'loss'],
      ['hp-balanced-ipc', { sampler: 'balanced', batchSize: 30, ipc: 4 }, 'batchSize'],
      ['hp-val-ratio', { valRatio: 1 }, 'valRatio'],
      ['hp-embedding-huge', { embeddingSize: 1e9 }, 'embeddingSize']
    ] as const
  ).map(([id, extra, field]): CorpusCase => ({
    id,
    area: 'hyperparameters',
    why: `an out-of-range ${field}`,
    kind: 'api',
    channel: 'runs.start',
    body: train(extra),
    expect: { status: 400, code: 'invalid_payload', field, fragment: field }
  })),

  // ---- ids
  ...(
    [
      ['id-dataset-unknown', 'datasets.get', { id: 999999 }, 404, 'not_found', undefined, '999999'],
      ['id-dataset-negative', 'datasets.get', { id: -1 }, 400, 'invalid_payload', 'id', 'id'],
      ['id-dataset-string', 'datasets.get', { id: '1' }, 400, 'invalid_payload', 'id', 'id'],
      [
        'id-dataset-remove-unknown',
        'datasets.remove',
        { id: 999999 },
        404,
        'not_found',
        undefined,
        '999999'
      ],
      ['id-run-unknown', 'runs.get', { id: 999999 }, 404, 'not_found', undefined, '999999'],
      [
        'id-run-remove-unknown',
        'runs.remove',
        { id: 999999 },
        404,
        'not_found',
        undefined,
        '999999'
      ],
      [
        'id-train-unknown-dataset',
        'runs.start',
        { datasetId: 999999 },
        404,
        'not_found',
        undefined,
        '999999'
      ],
      [
        'id-query-unknown-run',
        'retrieval.query',
        { runId: 999999, imageId: 1 },
        404,
        'not_found',
        undefined,
        '999999'
      ]
    ] as const
  ).map(([id, channel, body, status, code, field, fragment]): CorpusCase => ({
    id,
    area: 'ids',
    why: 'an id that does not exist or is not an id',
    kind: 'api',
    channel,
    body,
    expect: { status, code, field, fragment }
  })),

  // ---- media paths
  ...(
    [
      ['media-traversal-encoded', '/media/file/{baseline}/..%2F..%2Fetc%2Fpasswd', 403, 'refused'],
      // URL parsing folds %2e%2e segments first: what is left is not a file/<id>/<path> URL.
      [
        'media-traversal-dots',
        '/media/file/{baseline}/alpha/%2e%2e/%2e%2e/passwd',
        400,
        'expected file/'
      ],
      [
        'media-double-encoded',
        '/media/file/{baseline}/%252e%252e%252fpasswd',
        403,
        'encoded more than once'
      ],
      ['media-absolute', '/media/file/{baseline}/%2Fetc%2Fpasswd', 403, 'absolute path'],
      ['media-nul', '/media/file/{baseline}/alpha/img0.png%00.txt', 400, 'bad path'],
      ['media-unknown-image', '/media/image/999999', 404, 'no image with id 999999'],
      ['media-bad-id', '/media/thumb/abc', 400, 'expected thumb/<image id>'],
      [
        'media-unregistered-file',
        '/media/file/{baseline}/alpha/nope.png',
        404,
        'not an image of this dataset'
      ],
      ['media-unknown-kind', '/media/etc/passwd', 400, 'unknown media kind']
    ] as const
  ).map(([id, path, status, fragment]): CorpusCase => ({
    id,
    area: 'media',
    why: 'only registered images are served',
    kind: 'http',
    method: 'GET',
    path,
    expect: { status, fragment }
  })),

  // ---- tokens
  ...(
    [
      ['token-missing', 'none', 'missing or wrong token'],
      ['token-wrong', 'wrong-token', 'missing or wrong token'],
      ['token-foreign-origin', 'foreign-origin', 'cross-origin requests are refused'],
      ['token-foreign-host', 'foreign-host', 'unexpected Host header']
    ] as const
  ).map(([id, auth, fragment]): CorpusCase => ({
    id,
    area: 'tokens',
    why: 'the API answers only its own page with the token',
    kind: 'api',
    channel: 'datasets.remove',
    body: { id: '{baseline}' },
    auth,
    expect: { status: 401, code: 'unauthorized', fragment }
  })),

  // ---- payloads
  {
    id: 'payload-not-json',
    area: 'payloads',
    why: 'a body that is not JSON',
    kind: 'api',
    channel: 'datasets.rename',
    raw: '{"id": 1, "name": ',
    expect: { status: 400, code: 'invalid_payload', fragment: 'not valid JSON' }
  },
  {
    id: 'payload-unknown-channel',
    area: 'payloads',
    why: 'a method that does not exist',
    kind: 'api',
    channel: 'datasets.dropTable',
    body: {},
    expect: { status: 404, code: 'not_found', fragment: 'datasets.dropTable' }
  },
  {
    id: 'payload-empty-name',
    area: 'payloads',
    why: 'renaming to an empty name',
    kind: 'api',
    channel: 'datasets.rename',
    body: { id: '{baseline}', name: '' },
    expect: { status: 400, code: 'invalid_payload', field: 'name', fragment: 'name' }
  },
  {
    id: 'payload-split-ratio',
    area: 'payloads',
    why: 'a class ratio of 2',
    kind: 'api',
    channel: 'datasets.setSplit',
    body: { id: '{baseline}', split: { kind: 'class-ratio', trainRatio: 2 } },
    expect: {
      status: 400,
      code: 'invalid_payload',
      field: 'split.trainRatio',
      fragment: 'trainRatio'
    }
  },
  {
    id: 'payload-import-empty-path',
    area: 'payloads',
    why: 'an import without a path',
    kind: 'api',
    channel: 'datasets.startImport',
    body: { path: '' },
    expect: { status: 400, code: 'invalid_payload', field: 'path', fragment: 'path' }
  },
  {
    id: 'payload-import-bad-format',
    area: 'payloads',
    why: 'an unknown dataset format',
    kind: 'api',
    channel: 'datasets.startImport',
    body: { path: '{corpus}/baseline', format: 'zip' },
    expect: { status: 400, code: 'invalid_payload', field: 'format', fragment: 'format' }
  },
  {
    id: 'payload-import-missing-folder',
    area: 'payloads',
    why: 'importing a folder that does not exist',
    kind: 'api',
    channel: 'datasets.startImport',
    body: { path: '{corpus}/does/not/exist' },
    expect: { status: 400, code: 'invalid_payload', fragment: 'no such file or folder' }
  },
  {
    id: 'payload-query-no-image',
    area: 'payloads',
    why: 'an external query with neither a path nor bytes',
    kind: 'api',
    channel: 'retrieval.queryExternal',
    body: { runId: 1 },
    expect: { status: 400, code: 'invalid_payload', field: 'path', fragment: 'path or dataBase64' }
  },
  {
    id: 'payload-too-large',
    area: 'payloads',
    why: 'a declared body above the 40 MB limit',
    kind: 'http',
    method: 'POST',
    path: '/api/datasets.list',
    headers: { 'content-length': String(64 * 1024 * 1024) },
    expect: { status: 413, fragment: 'larger than' }
  },
  {
    id: 'payload-get-on-api',
    area: 'payloads',
    why: 'the API takes POST only',
    kind: 'http',
    method: 'GET',
    path: '/api/datasets.list',
    expect: { status: 405, fragment: 'use POST' }
  }
]
