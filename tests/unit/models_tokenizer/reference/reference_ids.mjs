// Computes the expected ids of tokenizer_test.cc's MultiScript tests with Hugging Face's own
// JavaScript tokenizers (npm package @huggingface/tokenizers 0.2.0), an implementation that
// shares no code with graft's. Not run by the tests (they never download anything): run it by
// hand after changing a sample, and paste its output into the test.
//   npm install @huggingface/tokenizers@0.2.0 && node reference_ids.mjs
import { Tokenizer } from "@huggingface/tokenizers";

// GPT-2's byte-to-unicode alphabet, as MakeByteLevelTokenizerJson() writes it (id = byte).
function byteChars() {
  const chars = [];
  let next = 256;
  for (let b = 0; b < 256; ++b) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || b >= 0xae;
    chars.push(String.fromCodePoint(printable ? b : next++));
  }
  return chars;
}
const BYTE_CHARS = byteChars();
const toByteLevel = (s) => Array.from(new TextEncoder().encode(s), (b) => BYTE_CHARS[b]).join("");

const GPT2 = String.raw`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`;
const LLAMA3 = String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`;

// The test's ByteLevelWords(regex, words): graft's byte-level tokenizer.json, ignore_merges, the
// words (UTF-8, mapped to byte-level characters) as tokens 257, 258, ..., split by `regex`.
function byteLevelWords(regex, words, normalizer = null) {
  const vocab = {};
  BYTE_CHARS.forEach((c, b) => (vocab[c] = b));
  vocab["<|endoftext|>"] = 256;
  let next = 257;
  for (const w of words) if (!(toByteLevel(w) in vocab)) vocab[toByteLevel(w)] = next++;
  const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false };
  return {
    version: "1.0",
    added_tokens: [{ id: 256, content: "<|endoftext|>", single_word: false, lstrip: false,
                     rstrip: false, normalized: false, special: true }],
    normalizer,
    pre_tokenizer: { type: "Sequence", pretokenizers: [
      { type: "Split", pattern: { Regex: regex }, behavior: "Isolated", invert: false }, byteLevel] },
    post_processor: byteLevel,
    decoder: byteLevel,
    model: { type: "BPE", dropout: null, unk_token: null, byte_fallback: false, ignore_merges: true,
             vocab, merges: [] },
  };
}

const SAMPLES = [
  "Café naïve résumé, Ærøskøbing",           // Latin with diacritics
  "Ελληνικά κείμενα: ἀρχή!",                  // Greek (with polytonic)
  "Привет, мир! Ёжик в тумане.",              // Cyrillic
  "مرحبا بالعالم ١٢٣٤",                       // Arabic, Arabic-Indic digits
  "שָׁלוֹם עולם",                              // Hebrew with points (combining marks)
  "नमस्ते दुनिया १२३",                          // Devanagari: vowel signs are marks, not letters
  "สวัสดีชาวโลก",                              // Thai
  "你好，世界。東京",                           // CJK with full-width punctuation
  "안녕하세요 세계",                             // Hangul
  "ሰላም ዓለም",                                 // Ethiopic
  "வணக்கம் உலகம்",                              // Tamil
  "გამარჯობა Բարեւ",                          // Georgian, Armenian
  "👩‍💻 works 👍🏽!",                              // emoji with ZWJ and a skin-tone modifier
  "e\u0301 vs \u00e9",                         // combining acute vs precomposed
  "ＡＢＣ１２３ and Ⅻ ½",                         // full-width forms, roman numeral, fraction
  "tabs\tand\u00a0nbsp\u2003em\u3000ideographic\n\n  end",  // Unicode spaces
];
// The vocabulary's words: every piece the reference's pre-tokenizers cut the samples into, in
// order of first appearance, so each piece is one token and a different cut changes the ids.
function referenceWords() {
  const words = [];
  for (const regex of [GPT2, LLAMA3]) {
    const tok = new Tokenizer(byteLevelWords(regex, []), {});
    for (const text of SAMPLES) {
      for (const piece of tok.pre_tokenizer(text)) {
        const utf8 = Buffer.from(Array.from(piece, (c) => BYTE_CHARS.indexOf(c))).toString("utf8");
        if (!words.includes(utf8)) words.push(utf8);
      }
    }
  }
  return words;
}
const WORDS = referenceWords();

// A C++ string literal; spaces other than " ", marks, format and control characters escaped.
const cppString = (s) =>
  '"' + Array.from(s, (c) => {
    if (c === '"' || c === "\\") return "\\" + c;
    if (c === " " || !/[\p{White_Space}\p{M}\p{Cf}\p{Cc}]/u.test(c)) return c;
    const cp = c.codePointAt(0);  // C++20 has no \u for control characters
    if (cp < 0xa0) return { 9: "\\t", 10: "\\n", 13: "\\r" }[cp] ?? "\\x" + cp.toString(16);
    return "\\u" + cp.toString(16).padStart(4, "0");
  }).join("") + '"';
console.log(`  const std::vector<std::string> words = {${WORDS.map(cppString).join(", ")}};`);
for (const [name, regex] of [["Gpt2", GPT2], ["Llama3", LLAMA3]]) {
  const tok = new Tokenizer(byteLevelWords(regex, WORDS), {});
  console.log(`// ${name}`);
  for (const text of SAMPLES) {
    const ids = tok.encode(text, { add_special_tokens: false }).ids;
    console.log(`      {${cppString(text)}, {${ids.join(", ")}}},`);
  }
}
