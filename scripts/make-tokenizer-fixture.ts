/**
 * Writes test/fixtures/tokenizer/gpt2-parity.txt, the text on which the tokenizer tests
 * compare our GPT-2 tokenizer with js-tiktoken. The text is generated, deterministically,
 * from a seed and the word lists below, so that it covers what tokenizers get wrong:
 * English prose with contractions and punctuation, source code with indentation, numbers,
 * runs of spaces, tabs and newlines, accented Latin, CJK, Arabic and other scripts, emoji
 * with skin tones, ZWJ sequences and flags, combining marks, and scripts mixed in one line.
 *
 * Regenerate it with the project's own tools through the test that checks it (then review the diff):
 *   NINES_WRITE_FIXTURES=1 npx vitest run test/model/tokenizer/gpt2-parity.test.ts
 * or run this file from the repository root with a TypeScript runner (the project has none
 * yet; compiling it with `npx tsc --outDir <dir> --module nodenext ...` and running the .js
 * from a folder whose package.json says "type": "module" works too).
 * The test fails whenever the committed file and this generator disagree.
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../src/core/rng.js';

export const tokenizerFixturePath = 'test/fixtures/tokenizer/gpt2-parity.txt';
export const tokenizerFixtureSeed = 20_240_917;
/** The fixture's minimum size in UTF-8 bytes; the brief asks for at least 100 KB. */
export const tokenizerFixtureBytesMin = 120_000;

const words = (list: string): string[] => list.trim().split(/\s+/);

const nouns = words(`time person year way day thing man world life hand part child eye woman place work week case point
  government company number group problem fact river mountain engine window garden letter question answer island market
  teacher doctor village harbour lantern kettle violin telescope bridge library orchard compass ledger tide meadow`);
const verbs = words(`finds keeps builds opens carries follows remembers measures writes reads repairs watches crosses
  answers counts borrows paints gathers lifts ignores explains returns believes wanders mends`);
const adjectives = words(`old new quiet bright careful strange small enormous patient early late honest crooked gentle
  silver wooden narrow ancient hollow restless certain`);
const contractions = words(`I'm you're he's she's it's we're they're I've you've we've they've I'd you'd he'd she'd
  we'd they'd I'll you'll he'll she'll we'll they'll isn't aren't wasn't weren't don't doesn't didn't can't couldn't
  won't wouldn't shouldn't mustn't let's that's who's what's where's there's here's y'all o'clock ma'am
  DON'T I'M IT'S WE'LL THEY'VE`);
const names = words(`Ada Alan Grace Linus Margaret Dennis Barbara Ken Edsger Frances Tony Leslie Niklaus Radia Claude`);
const accented = words(`café naïve façade résumé déjà vu crème brûlée coöperate Straße Müller Fräulein über schön
  Ångström smørrebrød fjörður jalapeño señor mañana piñata São Paulo coração ação Łódź Kraków źdźbło
  Dvořák Čapek šťastný Tiếng Việt phở Nguyễn İstanbul ağaç çiçek Ærøskøbing Þingvellir`);
const cjk = words(`你好 世界 中文 汉字 机器学习 自然语言处理 北京 上海 人工智能 分布式系统 高可用性 对等网络
  日本語 ひらがな カタカナ 東京 今日は いい天気ですね ありがとう ございます プログラミング トークナイザー
  한국어 안녕하세요 서울 감사합니다 컴퓨터 과학 분산 시스템`);
const otherScripts = words(`مرحبا بالعالم اللغة العربية شكرا كتاب مدرسة الحاسوب شبكة
  שלום עולם עברית תודה Привет мир русский язык спасибо Γειά σου κόσμε ελληνικά
  नमस्ते दुनिया हिन्दी भाषा สวัสดี ภาษาไทย ქართული Բարեւ ሰላም`);
const emoji = [
  '😀', '😂', '🥲', '🤖', '🚀', '🔥', '✨', '❤️', '👍', '👍🏽', '👋🏿', '🧑‍💻', '👩‍🔬', '👨‍👩‍👧‍👦', '👩‍❤️‍👨', '🏳️‍🌈', '🏴‍☠️',
  '🇫🇷', '🇯🇵', '🇧🇷', '🇺🇸', '🇪🇬', '1️⃣', '#️⃣', '☕', '🌍', '🐈‍⬛', '🫠', '🧪', '⚙️',
];
const oddities = [
  'e\u0301', 'n\u0303', 'a\u0308\u0304', '\u00a0', '\u2009', '\u3000', '\u200b', '\u200d', '\u2028', 'ﬁ', 'Ⅻ', '½', '²', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '𝟙𝟚𝟛', '\u{1d400}\u{1d401}', '…', '—', '–', '«', '»', '„', '“', '”', '‘', '’', '©', '™', '€', '£', '¥', '₿', '°', '±', '→', '∑', '∞',
];
const punctuation = ['.', '.', '.', ',', ';', ':', '!', '?', '?!', '...', ' -', ' (see above)', '"', "'"];

function pick<T>(rng: Rng, items: readonly T[]): T {
  return items[rng.nextInt(items.length)];
}

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

function sentence(rng: Rng): string {
  const parts: string[] = [];
  const length = 4 + rng.nextInt(14);
  for (let index = 0; index < length; index++) {
    const roll = rng.nextInt(20);
    if (roll < 5) parts.push(pick(rng, nouns));
    else if (roll < 8) parts.push(pick(rng, verbs));
    else if (roll < 10) parts.push(pick(rng, adjectives));
    else if (roll < 12) parts.push(pick(rng, contractions));
    else if (roll < 13) parts.push(`${pick(rng, names)}'s`);
    else if (roll < 14) parts.push(`"${pick(rng, nouns)}"`);
    else if (roll < 15) parts.push(pick(rng, ['the', 'a', 'of', 'and', 'to', 'in', 'with', 'but']));
    else if (roll < 16) parts.push(pick(rng, names));
    else if (roll < 17) parts.push(`${pick(rng, nouns)},`);
    else if (roll < 18) parts.push(String(rng.nextInt(2000)));
    else if (roll < 19) parts.push(`(${pick(rng, adjectives)})`);
    else parts.push(pick(rng, ['—', '-', '&', '/', "'quoted'", '`code`', 'e.g.', 'i.e.', 'etc.']));
  }
  return capitalise(parts.join(' ')) + pick(rng, punctuation);
}

function prose(rng: Rng): string {
  const sentences: string[] = [];
  const count = 3 + rng.nextInt(6);
  for (let index = 0; index < count; index++) sentences.push(sentence(rng));
  return sentences.join(rng.nextInt(4) === 0 ? '  ' : ' ');
}

function identifier(rng: Rng): string {
  const style = rng.nextInt(4);
  const first = pick(rng, nouns);
  const second = capitalise(pick(rng, nouns));
  if (style === 0) return first + second;
  if (style === 1) return `${first}_${second.toLowerCase()}`;
  if (style === 2) return `${first.toUpperCase()}_MAX`;
  return `_${first}${rng.nextInt(10)}`;
}

function code(rng: Rng): string {
  const name = identifier(rng);
  const other = identifier(rng);
  const number = rng.nextInt(1000);
  const templates = [
    `function ${name}(${other}: number[]): number {\n  let total = 0;\n  for (let i = 0; i < ${other}.length; i++) {\n    total += ${other}[i] * ${number};\n  }\n  return total; // sum of ${pick(rng, nouns)}s\n}\n`,
    `def ${name}(${other}, *args, **kwargs):\n    """Return the ${pick(rng, adjectives)} ${pick(rng, nouns)}."""\n    if not ${other}:\n        raise ValueError(f"bad {${other}!r}")\n    return [x ** 2 for x in ${other} if x % ${number % 7 + 2} == 0]\n`,
    `#include <stdio.h>\n\nint main(int argc, char **argv) {\n\tint ${name} = ${number};\n\tif (argc > 1 && ${name} >= 0x${number.toString(16).toUpperCase()}) {\n\t\tprintf("%d\\n", ${name} << 2);\n\t}\n\treturn 0;\n}\n`,
    `const ${name} = { "${other}": [${number}, ${number * 3}, null, true], 'key': \`\${${other}}\` };\nexport default ${name};\n`,
    `SELECT ${name}, COUNT(*) AS n FROM ${other} WHERE id <> ${number} AND name LIKE '%${pick(rng, nouns)}%' GROUP BY 1 ORDER BY n DESC;\n`,
    `<div class="${name}" data-id="${number}"><p>${pick(rng, nouns)} &amp; ${pick(rng, nouns)}</p></div>\n`,
    `${name} := make(map[string]int, ${number})\nfor k, v := range ${other} {\n\t${name}[k] += v\n}\n`,
    `if [[ -f "$HOME/.${name}" ]]; then\n  echo "found ${other}" >&2 && exit ${number % 3}\nfi\n`,
  ];
  return pick(rng, templates);
}

function numbers(rng: Rng): string {
  const items: string[] = [];
  const count = 6 + rng.nextInt(10);
  for (let index = 0; index < count; index++) {
    const roll = rng.nextInt(9);
    if (roll === 0) items.push(String(rng.nextUint32()));
    else if (roll === 1) items.push((rng.nextFloat() * 1e6).toFixed(rng.nextInt(6)));
    else if (roll === 2) items.push(`${rng.nextInt(9) + 1},${String(rng.nextInt(1000)).padStart(3, '0')},${String(rng.nextInt(1000)).padStart(3, '0')}.${rng.nextInt(100)}`);
    else if (roll === 3) items.push(`${1990 + rng.nextInt(40)}-${String(1 + rng.nextInt(12)).padStart(2, '0')}-${String(1 + rng.nextInt(28)).padStart(2, '0')}`);
    else if (roll === 4) items.push(`+1 (${100 + rng.nextInt(900)}) 555-${String(rng.nextInt(10000)).padStart(4, '0')}`);
    else if (roll === 5) items.push(`${(rng.nextFloat() * 10).toFixed(2)}e${rng.nextInt(40) - 20}`);
    else if (roll === 6) items.push(`0x${rng.nextUint32().toString(16)}`);
    else if (roll === 7) items.push('9'.repeat(1 + rng.nextInt(30)));
    else items.push(`${rng.nextInt(100)}%`);
  }
  return items.join(pick(rng, [' ', ', ', '\t', ' | ']));
}

function whitespace(rng: Rng): string {
  const runs = ['  ', '   ', '    ', '\t', '\t\t', '\n', '\n\n', '\n\n\n', ' \n', '\r\n', ' \t ', '        ', '\u00a0\u00a0', '\t\n  '];
  let text = '';
  const count = 3 + rng.nextInt(8);
  for (let index = 0; index < count; index++) text += pick(rng, nouns) + pick(rng, runs);
  return text;
}

function multilingual(rng: Rng): string {
  const pools = [accented, cjk, otherScripts, emoji, oddities];
  const items: string[] = [];
  const count = 8 + rng.nextInt(16);
  for (let index = 0; index < count; index++) {
    const roll = rng.nextInt(12);
    if (roll < 2) items.push(pick(rng, nouns));
    else if (roll < 3) items.push(pick(rng, contractions));
    else if (roll < 4) items.push(pick(rng, emoji) + pick(rng, emoji));
    else if (roll < 5) items.push(pick(rng, cjk) + pick(rng, cjk));
    else items.push(pick(rng, pick(rng, pools)));
  }
  return items.join(pick(rng, [' ', ' ', '', ', ', '、', '，']));
}

/** The fixture text for a seed: paragraphs of each kind, in random order, until it reaches the minimum size. */
export function makeTokenizerFixtureText(seed: number = tokenizerFixtureSeed): string {
  const rng = new Rng(seed);
  const generators = [prose, prose, prose, code, code, numbers, whitespace, multilingual, multilingual];
  const paragraphs: string[] = [];
  let bytes = 0;
  while (bytes < tokenizerFixtureBytesMin) {
    const paragraph = pick(rng, generators)(rng);
    paragraphs.push(paragraph);
    bytes += Buffer.byteLength(paragraph, 'utf8') + 2;
  }
  return `${paragraphs.join('\n\n')}\n`;
}

export function writeTokenizerFixture(path: string = tokenizerFixturePath): void {
  writeFileSync(path, makeTokenizerFixtureText(), 'utf8');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  writeTokenizerFixture();
  console.log(`wrote ${tokenizerFixturePath}`);
}
