// Loads a GGUF in llama.cpp (through node-llama-cpp's prebuilt CPU build),
// tokenizes a prompt and decodes greedily, printing one JSON line:
// {"prompt_tokens": [...], "reply_tokens": [...]}. Used by
// inference/embedded's TestLlamaCppRunsTheShippedModel to check that the
// file Hearth writes runs unchanged in llama.cpp.
//
//   node check.mjs MODEL.gguf PROMPT_FILE MAX_TOKENS
import {readFileSync} from "node:fs";
import {getLlama} from "node-llama-cpp";

const [path, promptFile, maxTokens] = process.argv.slice(2);
const prompt = readFileSync(promptFile, "utf8");
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath: path});
const promptTokens = [model.tokens.bos, ...model.tokenize(prompt, false)];
const ctx = await model.createContext({contextSize: 512});
const seq = ctx.getSequence();
const reply = [];
for await (const t of seq.evaluate(promptTokens, {temperature: 0})) {
  if (t === model.tokens.eos || reply.length >= Number(maxTokens)) break;
  reply.push(t);
}
console.log(JSON.stringify({prompt_tokens: Array.from(promptTokens), reply_tokens: reply}));
process.exit(0);
