/**
 * Structure screening: untrusted text that is shaped like part of the prompt rather than like a
 * document. The prompt's own data delimiters (a closing `</contract>`), chat-role markup, a JSON
 * object shaped like the stage's output contract, and sentences addressed to an AI, a model, an
 * assistant or an automated reviewer. Matched against the normalized forms of the text.
 */
import { PHRASE_LITERALS } from './phrase-literals';
import { alt, LazyPattern } from './phrases';

/** What the structure layer needs to know about the prompt and the output contract. */
export interface StructureContext {
  /** Tag names the prompt template uses (`contract` for `<contract>{{text}}</contract>`), lower case. */
  readonly delimiterTags?: readonly string[];
  /** Top-level property names of the model's output contract. */
  readonly outputFields?: readonly string[];
}

/** Fields the stage itself adds or asks the model for: a document has no reason to mention them. */
const STAGE_FIELDS = ['screening', 'promptinjection', 'injectionsuspected'];

/** Tags prompts commonly wrap untrusted data in. */
const COMMON_DELIMITERS = ['document', 'contract', 'text', 'input', 'data', 'context', 'untrusted', 'user_input', 'content', 'email', 'article', 'instructions?', 'prompt'];

const CHAT_MARKUP = new RegExp([
  '<\\|[a-z_]{2,20}\\|>', // <|im_start|>, <|system|>, <|endoftext|>
  '\\[/?(?:inst|sys)\\]', '<<\\s*/?\\s*sys\\s*>>', '</?s>',
  '</?\\s*(?:system|assistant|user|human|im_start|im_end)\\s*>',
  // After a line break, a sentence end, or any space: views that join lines lose the line start.
  '(?:^|[\\n.!?]\\s*|\\s)#{1,4} ?(?:system|assistant|user|human|instruction|instructions|response)\\s*:',
  '"role"\\s*:\\s*"(?:system|assistant|user|developer)"',
].join('|'));
/** A chat role at the start of a line: `Assistant: ...`. */
const ROLE_LINE = /(?:^|\n) ?(?:assistant|ai|human) ?:/;

/** Sentences addressed to an AI, a model, an assistant or an (automated) reviewer, per language. */
const ADDRESSED = [
  // English
  `\\b${alt(['note', 'message', 'instructions?', 'attention', 'attn', 'reminder', 'memo', 'directive'])}_(?:to|for)_(?:the_|any_|all_)?`
    + `${alt(['ai', 'a\\.i\\.', 'llm', 'language_model', 'model', 'assistant', 'chatbot', 'bot', 'gpt', 'automated_\\w+', 'ai_\\w+', 'reviewer_bot'])}\\b`,
  `\\b${alt(['dear', 'hey', 'hi', 'hello', 'attention', 'attn'])}[ ,:]+(?:the_)?${alt(['ai', 'llm', 'language_model', 'model', 'assistant', 'chatbot', 'bot', 'gpt', 'claude',
    'chatgpt', 'automated_reviewer', 'reviewer', 'reviewers', 'ai_reviewer', 'approver', 'checker'])}\\b`,
  `\\bif_you_are_(?:an?_|the_)?${alt(['ai', 'llm', 'language_model', 'model', 'assistant', 'chatbot', 'bot', 'automated', 'machine', 'reviewer'])}\\b`,
  `\\b${alt(['ai', 'llm', 'language_model', 'model', 'assistant', 'automated_reviewer', 'automated_system'])}s?_${alt(['reading', 'processing', 'reviewing', 'analy[sz]ing', 'summari[sz]ing', 'evaluating', 'screening'])}_this\\b`,
  '\\bto_the_(?:ai|automated|llm|machine)(?:_(?:reviewer|system|model|assistant|agent))?_?:',
  // German
  `\\b${alt(['hinweis', 'nachricht', 'anweisung', 'achtung', 'notiz', 'mitteilung'])}\\w*_(?:an|fur)_(?:die_|das_|den_)?${alt(['ki', 'kunstliche_intelligenz', 'modell', 'sprachmodell', 'assistent\\w*', 'bot', 'automatisch\\w*_\\w+'])}\\b`,
  `\\b${alt(['liebe', 'lieber', 'liebes', 'hallo', 'hey', 'sehr_geehrte\\w*'])}[ ,]+${alt(['ki', 'assistent\\w*', 'modell', 'sprachmodell', 'bot', 'prufer\\w*', 'gutachter\\w*'])}\\b`,
  `\\bwenn_(?:du|sie)_(?:eine?_)?${alt(['ki', 'kunstliche_intelligenz', 'sprachmodell', 'modell', 'assistent', 'bot'])}\\b~2(?:bist|sind)\\b`,
  // French
  `\\b${alt(['note', 'message', 'instruction', 'remarque', 'avis'])}s?_(?:pour|a|au|aux)_(?:l'|la_|le_|les_)?${alt(['ia', 'intelligence_artificielle', 'modele', 'assistant', 'bot', 'relecteur', 'examinateur'])}\\b`,
  `\\ba_l'attention_(?:de_l'|du_|de_la_)${alt(['ia', 'modele', 'assistant', 'relecteur', 'examinateur', 'intelligence_artificielle'])}\\b`,
  `\\b${alt(['cher', 'chere', 'bonjour', 'salut'])}[ ,]+(?:l'|le_|la_)?${alt(['ia', 'assistant', 'modele', 'bot', 'relecteur', 'examinateur', 'reviseur'])}\\b`,
  `\\bsi_(?:tu_es|vous_etes)_(?:une?_|l')?${alt(['ia', 'intelligence_artificielle', 'modele', 'assistant', 'bot'])}\\b`,
  // Spanish
  `\\b${alt(['nota', 'mensaje', 'instruccion', 'atencion', 'aviso'])}\\w*_(?:para|a)_(?:la_|el_|los_)?${alt(['ia', 'inteligencia_artificial', 'modelo', 'asistente', 'bot', 'revisor'])}\\b`,
  `\\b${alt(['querido', 'querida', 'estimado', 'estimada', 'hola'])}[ ,]+${alt(['ia', 'asistente', 'modelo', 'bot', 'revisor', 'revisora'])}\\b`,
  `\\bsi_(?:eres|es_usted)_(?:una?_|el_|la_)?${alt(['ia', 'inteligencia_artificial', 'modelo', 'asistente', 'bot'])}\\b`,
  // Italian
  `\\b${alt(['nota', 'messaggio', 'istruzion\\w*', 'attenzione', 'avviso'])}_(?:per|a|al|alla|all')_?(?:l'|la_|il_)?${alt(['ia', 'intelligenza_artificiale', 'modello', 'assistente', 'bot', 'revisore'])}\\b`,
  `\\b${alt(['caro', 'cara', 'gentile', 'gentili', 'egregio', 'ciao'])}[ ,]+${alt(['ia', 'assistente', 'modello', 'bot', 'revisore', 'revisori'])}\\b`,
  `\\bse_(?:sei|e)_(?:una?_|un'|l')?${alt(['ia', 'intelligenza_artificiale', 'modello', 'assistente', 'bot'])}\\b`,
  // Portuguese
  `\\b${alt(['nota', 'mensagem', 'instruc\\w*', 'atencao', 'aviso'])}_(?:para|a|ao|aos)_(?:a_|o_)?${alt(['ia', 'inteligencia_artificial', 'modelo', 'assistente', 'bot', 'revisor'])}\\b`,
  `\\b${alt(['caro', 'cara', 'prezado', 'prezada', 'ola'])}[ ,]+${alt(['ia', 'assistente', 'modelo', 'bot', 'revisor', 'revisora'])}\\b`,
  `\\bse_(?:voce_e|tu_es|for)_(?:uma?_|o_|a_)?${alt(['ia', 'inteligencia_artificial', 'modelo', 'assistente', 'bot'])}\\b`,
  // Dutch
  `\\b${alt(['opmerking', 'bericht', 'notitie', 'instructie', 'let_op', 'aandacht'])}\\w*_(?:voor|aan)_(?:de_|het_)?${alt(['ai', 'ki', 'kunstmatige_intelligentie', 'model', 'assistent', 'bot', 'beoordelaar'])}\\b`,
  `\\b${alt(['beste', 'lieve', 'hallo', 'hoi'])}[ ,]+${alt(['ai', 'assistent', 'model', 'bot', 'beoordelaar', 'reviewer'])}\\b`,
  `\\bals_(?:je|jij|u)_(?:een_|de_)?${alt(['ai', 'ki', 'kunstmatige_intelligentie', 'model', 'assistent', 'bot'])}\\b~2(?:bent|is)\\b`,
];
/** Text addressed to the model ("note to the AI", "dear assistant"), as one named pattern. */
export const ADDRESSED_PATTERN = { name: 'addressed-to-the-model', source: alt(ADDRESSED) };
const ADDRESSED_SPACED = new LazyPattern(ADDRESSED_PATTERN.source, false, PHRASE_LITERALS[ADDRESSED_PATTERN.name]?.spaced);
const ADDRESSED_JOINED = new LazyPattern(ADDRESSED_PATTERN.source, true, PHRASE_LITERALS[ADDRESSED_PATTERN.name]?.joined);

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The tag names a prompt template uses (`<contract>` ... `</contract>`), lower case, without duplicates. */
export function templateTags(template: string): string[] {
  return [...new Set([...template.matchAll(/<\/?\s*([A-Za-z][\w.-]{0,40})\s*>/g)].map((m) => m[1].toLowerCase()))];
}

/** Findings of the structure layer in one normalized text (`joined`: a text whose word gaps were lost). */
export function findStructure(folded: string, ctx: StructureContext, joined = false, lines?: string): string[] {
  const found: string[] = [];
  if (joined) {
    if (ADDRESSED_JOINED.test(folded)) found.push('addressed-to-ai');
    return found;
  }
  // Each check first asks for a character or word every match needs (a match of `delimiter` has a
  // `<`; of CHAT_MARKUP a `<`, `[`, `#` or `"role"`; of ROLE_LINE and `contractShaped` a `:` or `=`),
  // so a plain text compiles none of these expressions (they compile on first use, on a cold start).
  const hasAngle = folded.includes('<');
  const markup = hasAngle || folded.includes('[') || folded.includes('#') || folded.includes('"role"');
  // Markup is also looked for with every space removed: `< / c o n t r a c t >`.
  const squashed = markup ? folded.replace(/ /g, '') : folded;
  if (hasAngle) {
    const tags = [...(ctx.delimiterTags ?? []).map(escapeRe), ...COMMON_DELIMITERS];
    const delimiter = new RegExp(`<\\s*/?\\s*${alt(tags)}\\s*>`);
    if (delimiter.test(folded) || delimiter.test(squashed)) found.push('prompt-delimiter');
  }
  if (folded.includes('untrusted') && /(?:begin|end)[-_ ]untrusted[-_ ]data|untrusted[-_ ]data[-_ ][0-9a-f]{6}/.test(folded)) found.push('spotlight-marker');
  if ((markup && (CHAT_MARKUP.test(folded) || CHAT_MARKUP.test(squashed))) || (lines !== undefined && lines.includes(':') && ROLE_LINE.test(lines))) found.push('chat-markup');
  if ((folded.includes(':') || folded.includes('=')) && contractShaped(folded, ctx.outputFields ?? [])) found.push('output-contract-json');
  if (ADDRESSED_SPACED.test(` ${folded} `)) found.push('addressed-to-ai');
  return found;
}

/**
 * True when the text holds a key of the output contract as JSON (`"riskScore": ...`), a
 * camel-case contract key followed by `:` or `=`, or a field the stage adds itself.
 */
function contractShaped(folded: string, outputFields: readonly string[]): boolean {
  const fields = [...new Set([...outputFields.map((f) => f.toLowerCase()), ...STAGE_FIELDS])];
  if (fields.length === 0) return false;
  const quoted = new RegExp(`["']\\s*${alt(fields.map(escapeRe))}\\s*["']\\s*[:=]`);
  if (quoted.test(folded)) return true;
  // Unquoted keys only when they are not ordinary words: camelCase or snake_case in the contract.
  const coded = outputFields.filter((f) => /[a-z][A-Z]|_/.test(f)).map((f) => f.toLowerCase());
  const bare = [...coded, ...STAGE_FIELDS];
  return new RegExp(`\\b${alt(bare.map(escapeRe))}\\s*[:=]`).test(folded);
}
