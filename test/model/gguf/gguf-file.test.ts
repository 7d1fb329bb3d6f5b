import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openGguf, writeGgufFile } from '../../../src/model/gguf/gguf-file.js';
import { encodeGgufHeader, GgufFormatError, headerReadChunkBytes, parseGgufHeader, type ByteSource } from '../../../src/model/gguf/index.js';
import { quantizeTensor } from '../../../src/model/quant/index.js';
import { everyMetadataType, sampleContent } from './fixtures.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'nines-gguf-file-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

const hugeBytes = 512 * 1024 * 1024;

/**
 * A 512 MiB+ model on disk that costs no disk: the header and a small tensor are written,
 * then ftruncate extends the file over the huge tensor's bytes, which stay a hole.
 */
function makeSparseModel(): { file: string; small: Uint8Array } {
  const file = path.join(directory, 'sparse.gguf');
  const small = quantizeTensor('F32', Float32Array.from({ length: 16 }, (_, index) => index - 7.5));
  const { bytes, header } = encodeGgufHeader({
    metadata: everyMetadataType(),
    tensors: [
      { name: 'huge', dims: [1024, hugeBytes / 4 / 1024], type: 'F32' },
      { name: 'small', dims: [16], type: 'F32' },
    ],
  });
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeSync(fd, bytes, 0, bytes.length, 0);
    const smallInfo = header.tensors[1];
    fs.writeSync(fd, small, 0, small.length, header.dataOffset + smallInfo.offset);
    fs.ftruncateSync(fd, header.dataOffset + smallInfo.offset + smallInfo.byteLength);
  } finally {
    fs.closeSync(fd);
  }
  return { file, small };
}

describe('openGguf reads lazily', () => {
  const { file, small } = makeSparseModel();

  it('reads only the header of a 512 MiB file when opening it, and only a tensor’s bytes when reading it', () => {
    const gguf = openGguf(file);
    try {
      expect(gguf.fileSize).toBeGreaterThan(hugeBytes);
      expect(gguf.tensor('huge')!.byteLength).toBe(hugeBytes);
      // At most one chunk of read-ahead beyond the header.
      expect(gguf.bytesRead).toBeLessThanOrEqual(gguf.dataOffset + headerReadChunkBytes);
      expect(gguf.bytesRead).toBeLessThan(1024 * 1024);
      const before = gguf.bytesRead;
      expect(gguf.readTensor('small')).toEqual(small);
      expect(gguf.bytesRead - before).toBe(small.length);
    } finally {
      gguf.close();
    }
  });

  it('asks its byte source for nothing in the data section beyond one chunk of read-ahead', () => {
    const fd = fs.openSync(file, 'r');
    const reads: Array<[number, number]> = [];
    const source: ByteSource = {
      size: fs.fstatSync(fd).size,
      read(offset, length) {
        reads.push([offset, length]);
        const bytes = new Uint8Array(length);
        fs.readSync(fd, bytes, 0, length, offset);
        return bytes;
      },
    };
    try {
      const header = parseGgufHeader(source, file);
      const total = reads.reduce((sum, [, length]) => sum + length, 0);
      expect(total).toBeLessThanOrEqual(header.dataOffset + headerReadChunkBytes);
      for (const [offset] of reads) expect(offset).toBeLessThan(header.dataOffset);
    } finally {
      fs.closeSync(fd);
    }
  });
});

describe('GgufFile', () => {
  const file = path.join(directory, 'model.gguf');
  writeGgufFile(file, sampleContent());

  it('names a missing tensor, and refuses reads after close', () => {
    const gguf = openGguf(file);
    expect(gguf.tensor('missing')).toBeUndefined();
    expect(() => gguf.readTensor('missing')).toThrow(new GgufFormatError(file, "tensor 'missing'", 'the file has no tensor of that name'));
    gguf.close();
    gguf.close();
    expect(() => gguf.readTensor('one')).toThrow(/after close\(\)/);
  });

  it('reports a file truncated after it was opened, instead of returning short data', () => {
    const copy = path.join(directory, 'shrinking.gguf');
    fs.copyFileSync(file, copy);
    const gguf = openGguf(copy);
    try {
      const last = gguf.tensors.at(-1)!;
      fs.truncateSync(copy, gguf.dataOffset + last.offset + 3);
      expect(() => gguf.readTensor(last.name)).toThrow(/tensor 'three.dims' data: the file ended at byte \d+, before the \d+ bytes at byte \d+ were read; was it truncated while open\?/);
    } finally {
      gguf.close();
    }
  });

  it('refuses a directory and names a malformed file by its path', () => {
    expect(() => openGguf(directory)).toThrow(new GgufFormatError(directory, 'file', 'is not a regular file'));
    const bad = path.join(directory, 'bad.gguf');
    fs.writeFileSync(bad, 'GGML and then some');
    expect(() => openGguf(bad)).toThrow(`${bad}: header.magic: expected the bytes 47 47 55 46 ('GGUF'), found 47 47 4d 4c; this is not a GGUF file`);
  });

  it('passes on the operating system’s error for a missing file', () => {
    expect(() => openGguf(path.join(directory, 'absent.gguf'))).toThrow(/ENOENT/);
  });
});
