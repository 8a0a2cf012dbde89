/**
 * Multilingual phrase screening: named patterns of instruction-like text in English, German,
 * French, Spanish, Italian, Portuguese and Dutch, matched against the normalized forms of the
 * untrusted text (lower case, no accents, look-alikes folded, one space between words).
 *
 * Patterns are written with two tokens so each compiles twice: `_` is a word gap and `~N` up to N
 * words in between. The spaced form matches ordinary text; the joined form matches letters that
 * were spaced out with no word gaps at all (`i g n o r e a l l p r e v i o u s`).
 */

import { PHRASE_LITERALS } from './phrase-literals';

export const alt = (words: readonly string[]) => `(?:${words.join('|')})`;

/** Per language: verbs that discard, qualifiers of what came before, and the nouns for instructions. */
interface Lexicon {
  readonly verbs: readonly string[];
  /** Qualifiers that point at the prompt: previous, above, your, system. */
  readonly prior: readonly string[];
  /** Broad qualifiers (all, any): only with the strong nouns. */
  readonly broad: readonly string[];
  /** Nouns that, in a contract, rarely follow a discard verb: instructions, prompts. */
  readonly strong: readonly string[];
  /** Nouns with ordinary contract meanings too (rules, guidelines): only with a `prior` qualifier. */
  readonly weak: readonly string[];
}

const LEXICONS: { readonly [lang: string]: Lexicon } = {
  en: {
    verbs: ['ignor\\w*', 'disregard\\w*', 'forget\\w*', 'override', 'overlook', 'bypass', 'skip', 'neglect', 'supersede', 'abandon', 'discard', 'drop', 'delete', 'erase', 'set aside'],
    prior: ['previous\\w*', 'prior', 'above', 'earlier', 'preceding', 'foregoing', 'original', 'initial', 'your', 'system', 'old', 'existing', 'given'],
    broad: ['all', 'any', 'these', 'those', 'every', 'other'],
    strong: ['instructions?', 'directions', 'directives?', 'prompts?', 'commands', 'programming', 'system prompt'],
    weak: ['rules', 'guidelines', 'guidance', 'context', 'constraints', 'orders', 'policies', 'restrictions', 'guardrails?'],
  },
  de: {
    verbs: ['ignorier\\w*', 'vergiss', 'vergesst', 'vergessen', 'missacht\\w*', 'uberschreib\\w*', 'verwirf', 'verwerfen', 'ubergeh\\w*', 'hinwegsetz\\w*', 'streich\\w*'],
    prior: ['vorherig\\w*', 'bisherig\\w*', 'obig\\w*', 'fruher\\w*', 'vorangegangen\\w*', 'vorigen?', 'ursprunglich\\w*', 'deine\\w*', 'ihre\\w*', 'system\\w*'],
    broad: ['alle\\w*', 'jede\\w*', 'sämtliche\\w*', 'samtliche\\w*'],
    strong: ['anweisung\\w*', 'instruktion\\w*', 'befehl\\w*', 'prompts?', 'systemprompt\\w*'],
    weak: ['vorgabe\\w*', 'regeln', 'richtlinie\\w*', 'weisung\\w*', 'anordnung\\w*'],
  },
  fr: {
    verbs: ['ignor\\w*', 'oubli\\w*', 'neglig\\w*', 'ne tenez pas compte', 'ne tiens pas compte', 'faites abstraction', 'fais abstraction', 'passez outre', 'passe outre', 'contourn\\w*', 'ecart\\w*'],
    prior: ['precedent\\w*', 'anterieur\\w*', 'ci-dessus', 'initial\\w*', 'originel\\w*', 'originale?s?', 'vos', 'tes', 'du systeme', 'systeme'],
    broad: ['toutes', 'tous', 'les'],
    strong: ['instructions?', 'consignes?', 'directives?', 'prompts?', 'commandes'],
    weak: ['regles', 'ordres', 'indications', 'orientations'],
  },
  es: {
    verbs: ['ignor\\w*', 'olvid\\w*', 'omit\\w*', 'haz caso omiso', 'haga caso omiso', 'hagan caso omiso', 'descart\\w*', 'pasa por alto', 'pase por alto', 'desatiend\\w*', 'desobedec\\w*'],
    prior: ['anterior\\w*', 'previ\\w*', 'de arriba', 'original\\w*', 'iniciales', 'tus', 'sus', 'del sistema'],
    broad: ['todas', 'todos', 'las', 'cualquier'],
    strong: ['instrucciones', 'instruccion', 'indicaciones', 'directrices', 'consignas', 'prompts?', 'comandos'],
    weak: ['reglas', 'ordenes', 'normas', 'pautas'],
  },
  it: {
    verbs: ['ignor\\w*', 'dimentic\\w*', 'trascur\\w*', 'non considerare', 'non tenere conto', 'tralasci\\w*', 'scavalc\\w*', 'scarta\\w*'],
    prior: ['precedent\\w*', 'anterior\\w*', 'original\\w*', 'iniziali', 'tue', 'sue', 'di sistema', 'del sistema', 'sopra'],
    broad: ['tutte', 'tutti', 'le', 'qualsiasi'],
    strong: ['istruzion\\w*', 'indicazion\\w*', 'direttive', 'prompts?', 'comandi', 'consegne'],
    weak: ['regole', 'ordini', 'norme', 'linee guida'],
  },
  pt: {
    verbs: ['ignor\\w*', 'esquec\\w*', 'desconsider\\w*', 'desprez\\w*', 'descart\\w*', 'nao considere', 'passe por cima', 'contorn\\w*'],
    prior: ['anterior\\w*', 'previ\\w*', 'original\\w*', 'iniciais', 'suas', 'tuas', 'do sistema', 'acima'],
    broad: ['todas', 'todos', 'as', 'quaisquer'],
    strong: ['instrucoes', 'instrucao', 'orientacoes', 'diretrizes', 'prompts?', 'comandos'],
    weak: ['regras', 'ordens', 'normas'],
  },
  nl: {
    verbs: ['negeer\\w*', 'vergeet', 'vergeten', 'sla~2over', 'overschrijf', 'omzeil\\w*', 'verwerp\\w*', 'schrap\\w*'],
    prior: ['voorgaande', 'vorige', 'eerdere', 'bovenstaande', 'oorspronkelijke', 'je', 'jouw', 'uw', 'systeem\\w*'],
    broad: ['alle', 'elke', 'de'],
    strong: ['instructies', 'instructie', 'aanwijzingen', 'opdrachten', 'prompts?', 'commando\'?s'],
    weak: ['regels', 'richtlijnen', 'voorschriften'],
  },
};

/** "Ignore the previous instructions" in each language, in both word orders. */
function discardPattern(l: Lexicon): string {
  const strongQual = alt([...l.prior, ...l.broad]);
  const prior = alt(l.prior);
  return `\\b${alt(l.verbs)}\\b~4(?:${strongQual}\\b~2${alt(l.strong)}|${prior}\\b~2${alt(l.weak)}|${alt(l.strong)}~1${prior}|${alt(l.weak)}~1${prior})\\b`;
}

/** Named patterns, in the token syntax (`_` a space, `~N` up to N words). Names are stable. */
export const PHRASE_PATTERNS: ReadonlyArray<{ readonly name: string; readonly source: string }> = [
  ...Object.entries(LEXICONS).map(([lang, l]) => ({ name: `ignore-instructions-${lang}`, source: discardPattern(l) })),
  {
    name: 'new-instructions',
    source: `\\b${alt(['new', 'updated', 'real', 'actual', 'hidden', 'true', 'revised', 'secret', 'override',
      'neue_?', 'aktualisierte', 'nouvelles?', 'vraies', 'nuevas?', 'verdaderas', 'nuove', 'vere', 'novas?', 'nieuwe', 'echte'])}_`
      + `${alt(['instructions?', 'directives?', 'prompts?', 'task', 'orders', 'anweisung\\w*', 'auftrag', 'consignes?', 'instrucciones', 'istruzioni',
        'instrucoes', 'instructies', 'opdracht'])} ?[:\\-]`,
  },
  {
    name: 'follow-these-instead',
    source: `\\b${alt(['now', 'instead', 'only'])},?_${alt(['follow', 'obey', 'execute', 'do'])}_${alt(['these', 'my', 'the following', 'the new', 'this'])}_${alt(['instructions', 'commands', 'orders', 'steps', 'directives'])}`,
  },
  {
    name: 'role-override',
    source: alt([
      `\\byou_are_now~3${alt(['assistant', 'ai', 'model', 'bot', 'chatbot', 'reviewer', 'agent', 'dan', 'gpt', 'llm', 'approver', 'helper', 'analyst', 'system'])}\\b`,
      '\\bfrom_now_on,?_you_(?:are|will|must|shall|should|only|answer|reply|respond)\\b',
      '\\b(?:pretend|imagine|roleplay|role-play)(?:_that)?_(?:you_are|to_be|you\'re)\\b',
      `\\bact_as~2${alt(['assistant', 'ai', 'model', 'reviewer', 'approver', 'dan', 'unrestricted', 'different'])}\\b`,
      '\\b(?:developer|god|dan|jailbreak|unrestricted)_mode\\b', '\\bjailbreak', '\\bdo_anything_now\\b',
      `\\b(?:du_bist|sie_sind)_(?:jetzt|nun|ab_sofort|ab_jetzt)~3${alt(['assistent\\w*', 'ki', 'modell', 'bot', 'prufer\\w*', 'agent\\w*', 'gutachter\\w*'])}\\b`,
      '\\bab_(?:sofort|jetzt|nun)_(?:bist_du|sind_sie|wirst_du|antwortest_du|musst_du)\\b', '\\btu_so,?_als_(?:ob|waerst|warst)',
      `\\b(?:tu_es|vous_etes)_(?:maintenant|desormais|dorenavant)~3${alt(['assistant\\w*', 'ia', 'modele', 'bot', 'relecteur', 'agent', 'examinateur', 'reviseur'])}\\b`,
      '\\b(?:a_partir_de_maintenant|desormais|dorenavant),?_(?:tu|vous)_(?:es|etes|dois|devez|vas|allez|repondras|repondrez)\\b', '\\bfai(?:s|tes)_semblant\\b',
      `\\bahora_(?:eres|es_usted|sos)~3${alt(['asistente', 'ia', 'modelo', 'bot', 'revisor', 'agente'])}\\b`,
      '\\ba_partir_de_ahora,?_(?:eres|seras|debes|responderas|tu)\\b', '\\bfinge_(?:que_eres|ser)\\b',
      `\\bora_sei~3${alt(['assistente', 'ia', 'modello', 'bot', 'revisore', 'agente'])}\\b`,
      '\\b(?:d\'ora_in_poi|da_ora_in_poi|da_adesso_in_poi),?_(?:sei|sarai|devi|rispondi|risponderai)\\b', '\\bfingi_(?:di_essere|che)\\b',
      `\\bagora_(?:voce_e|tu_es|es)~3${alt(['assistente', 'ia', 'modelo', 'bot', 'revisor', 'agente'])}\\b`,
      '\\ba_partir_de_agora,?_(?:voce|tu)_(?:e|es|sera|deve|responde)\\b', '\\bfinja_(?:ser|que)\\b',
      `\\bje_bent_(?:nu|vanaf_nu|voortaan)~3${alt(['assistent', 'ai', 'model', 'bot', 'beoordelaar', 'agent', 'reviewer'])}\\b`,
      '\\bvanaf_nu_(?:ben_je|moet_je|antwoord_je|zul_je)\\b', '\\bdoe_alsof\\b',
    ]),
  },
  {
    name: 'system-prompt',
    source: `\\b${alt(['system_(?:prompt|message|instructions?|override)', 'systemprompt', 'systemanweisung\\w*', 'systemnachricht',
      'prompt_(?:du_)?systeme', 'invite_systeme', 'prompt_del_sistema', 'prompt_de_sistema', 'prompt_do_sistema', 'prompt_di_sistema', 'systeemprompt', 'systeeminstructie\\w*'])}\\b`,
  },
  {
    name: 'auto-approve',
    source: alt([
      '\\bauto[_-]?approv\\w*', '\\bapprove_(?:it|this|the_(?:contract|document|agreement|file|nda))_automatically\\b',
      '\\bautomatisch\\w*_(?:zu_)?genehmig\\w*', '\\bautomatische_genehmigung\\b',
      '\\bapprouv\\w*_automatiquement\\b', '\\bapprobation_automatique\\b', '\\bvalid\\w*_automatiquement\\b',
      '\\baprueb\\w*_automaticamente\\b', '\\baprob\\w*_automaticamente\\b', '\\baprobacion_automatica\\b',
      '\\bapprov\\w*_automaticamente\\b', '\\bapprovazione_automatica\\b',
      '\\baprov\\w*_automaticamente\\b', '\\baprovacao_automatica\\b',
      '\\bautomatisch_goed(?:keuren|gekeurd|_te_keuren)\\b', '\\bkeur~4automatisch_goed\\b',
    ]),
  },
  {
    name: 'approve-without-review',
    source: alt([
      `\\b${alt(['approve', 'accept', 'pass', 'sign_off(?:_on)?', 'clear', 'whitelist', 'allow'])}_(?:it|this(?:_\\w+)?|the_(?:contract|document|agreement|file|nda))\\b[^.]{0,40}\\b`
        + '(?:without|no|skip\\w*)\\b[^.]{0,24}\\b(?:review|escalation|escalating|checks?|scrutiny|further)',
      '\\b(?:please|kindly|just)_approve_(?:it|this)\\b',
      '\\bgenehmig\\w*\\b[^.]{0,40}\\bohne_(?:weitere_)?(?:prufung|kontrolle|freigabe)', '\\bbitte\\b[^.]{0,80}\\bgenehmig', '\\bgenehmigen_sie_(?:ihn|es|sie|diesen|dieses|diese)\\b', '\\bgenehmige_(?:ihn|es|sie|diesen|dieses|diese)\\b',
      '\\bapprouv\\w*\\b[^.]{0,40}\\bsans_(?:revue|examen|relecture|controle|verification|escalade)', '\\b(?:merci_de|veuillez)\\b[^.]{0,80}\\bapprouv', '\\bapprouvez-(?:le|la|les)\\b',
      '\\baprob\\w*\\b[^.]{0,40}\\bsin_(?:revision|control|verificacion|escalamiento|escalado)', '\\baprueb\\w*\\b[^.]{0,40}\\bsin_(?:revision|control|verificacion)', '\\b(?:por_favor|le_ruego)\\b[^.]{0,80}\\baprueb', '\\baprueb(?:elo|alo|ela|ala|enlo)\\b',
      '\\bapprov\\w*\\b[^.]{0,40}\\bsenza_(?:revisione|controll\\w*|ulteriori|verifica|escalation)', '\\b(?:per_favore|la_preghiamo_di|ti_prego_di)\\b[^.]{0,80}\\bapprov', '\\bapprovalo\\b|\\bapprovala\\b',
      '\\baprov\\w*\\b[^.]{0,40}\\bsem_(?:revisao|escalonamento|verificacao|controle)', '\\b(?:por_favor|solicitamos_que)\\b[^.]{0,80}\\baprov', '\\baprove-o\\b|\\baprove-a\\b',
      '\\bgoedkeur\\w*\\b[^.]{0,40}\\bzonder_(?:controle|beoordeling|review|toetsing)', '\\bkeur_(?:het|dit|deze|hem)~2goed\\b',
    ]),
  },
  {
    name: 'mark-as-safe',
    source: alt([
      `\\b${alt(['mark', 'treat', 'classify', 'rate', 'score', 'flag', 'label', 'consider', 'report', 'record', 'list', 'handle', 'file', 'tag'])}_`
        + '(?:it|this(?:_\\w+)?|the_(?:contract|document|agreement|file|nda|clause)|everything)_(?:as|to_be)_'
        + '(?:approved|pre-?approved|safe|low[_-]risk|routine|benign|clean|harmless|compliant|risk-?free|no_risk|standard|acceptable)\\b',
      // Without the "as": "mark it approved", "flag this contract safe".
      '\\b(?:mark|flag|label|tag)_(?:it|this(?:_\\w+)?|the_(?:contract|document|agreement|file|nda))_(?:approved|pre-?approved|safe|low[_-]risk|cleared)\\b',
      '\\b(?:stuf\\w*|markier\\w*|bewert\\w*|kennzeichn\\w*|klassifizier\\w*|behandl\\w*|betracht\\w*)\\b~5als_(?:risikolos|unbedenklich|genehmigt|sicher|risikoarm|harmlos|routine\\w*|niedriges_risiko)',
      '\\b(?:class\\w*|marqu\\w*|consider\\w*|trait\\w*|not\\w*|evalu\\w*)\\b~5comme_(?:sans_risque|approuve\\w*|sur|sure|a_faible_risque|faible_risque|routine|benin|conforme|inoffensif|valide)',
      '\\b(?:clasifi\\w*|marc\\w*|consider\\w*|trat\\w*|calific\\w*)\\b~5como_(?:de_)?(?:bajo_riesgo|sin_riesgo|aprobado|seguro|rutinario|inofensivo|valido)',
      '\\b(?:classific\\w*|contrassegn\\w*|consider\\w*|tratt\\w*|valut\\w*|segna\\w*|marca\\w*)\\b~5come_(?:sicuro|a_basso_rischio|senza_rischi|approvato|innocuo|di_routine)',
      '\\b(?:classifi\\w*|marqu\\w*|marc\\w*|consider\\w*|trat\\w*|avali\\w*)\\b~5como_(?:aprovado|seguro|de_baixo_risco|sem_risco|rotineiro|inofensivo)',
      '\\b(?:beoordeel|markeer|classificeer|behandel|beschouw)\\w*\\b~5als_(?:risicoloos|veilig|goedgekeurd|laag_risico|routine|onschuldig)',
    ]),
  },
  {
    name: 'output-manipulation',
    source: alt([
      `\\b${alt(['set', 'make', 'give', 'put', 'assign', 'return', 'output', 'report', 'rate', 'lower', 'reduce', 'change', 'answer', 'reply'])}\\b~6`
        + '(?:risk_?score|riskscore|risk_rating|risk_level|score|rating)\\b~3(?:to|as|at|of|=|:|is|be|with)?_?(?:0(?:\\.0+)?|zero|none|low|lowest|minimal|minimum|nothing)\\b',
      '\\b(?:risk_?score|riskscore)~3(?:of|to|=|:|is|must_be|should_be|as)_?0(?:\\.0+)?\\b',
      '\\b(?:lowest|minimum|minimal)_(?:possible_)?risk_(?:score|rating|level)\\b',
      '\\b(?:risiko(?:wert|bewertung|score|stufe|einstufung|niveau)\\w*|risikoscore)~3(?:auf|von|=|:|ist|mit)_?(?:0|null|niedrig\\w*|gering\\w*|minimal)\\b',
      '\\b(?:score|niveau|note|indice) de risque~3(?:a|de|=|:|sur|comme)_?(?:0|zero|faible|nul|minimal)\\b',
      '\\b(?:puntuacion|nivel|calificacion|indice|valor)_de_riesgo~3(?:a|en|de|=|:|como)_?(?:0|cero|bajo|nulo|minimo)\\b',
      '\\b(?:punteggio|livello|valutazione|indice)_di_rischio~3(?:a|su|di|=|:|come)_?(?:0|zero|basso|nullo|minimo)\\b',
      '\\b(?:pontuacao|nivel|classificacao|indice)_de_risco~3(?:para|em|de|=|:|como)_?(?:0|zero|baixo|nulo|minimo)\\b',
      '\\b(?:risicoscore|risiconiveau|risicobeoordeling|risicowaarde)~3(?:op|van|naar|=|:)_?(?:0|nul|laag|minimaal)\\b',
    ]),
  },
  {
    name: 'suppress-findings',
    source: alt([
      '\\b(?:do_not|don\'t|dont|never)_(?:flag|report|list|mention|include|escalate|highlight|return|output|raise|note)\\b~4(?:clauses?|risks?|issues?|it|this|anything|indemnit\\w*|liability|findings)\\b',
      '\\b(?:report|list|return|output)_(?:no|zero|an_empty)_(?:risk_)?(?:clauses|risks|findings|issues|riskclauses)\\b',
      '\\bthe_(?:model|ai|assistant|llm|language_model|reviewer_bot|automated_reviewer)_(?:must|should|shall|will|may|is_to)_(?:not_|never_)?(?:report|flag|list|mention|output|return|approve|classify|rate|score|ignore|skip)\\b',
      '\\b(?:gib|melde|nenne|liste|markiere|erwahne)\\b~5(?:keine?|nicht)\\b~2(?:risikoklausel\\w*|klausel\\w*|risiken)', '\\bkeine_risikoklauseln\\b',
      '\\bne_(?:signale[rz]?|mentionne[rz]?|liste[rz]?|rapporte[rz]?|indique[rz]?)\\b~3(?:aucune?|pas|rien)\\b',
      '\\bno_(?:informes|reportes|menciones|marques|senales|incluyas|indiques|listes)\\b',
      '\\bnon_(?:segnalare|riportare|menzionare|elencare|indicare|segnalate|riportate)\\b',
      '\\bnao_(?:informe|reporte|mencione|liste|sinalize|indique|relate)\\b',
      '\\b(?:meld|noem|rapporteer|markeer)_(?:dan_)?(?:geen|niet)\\b',
    ]),
  },
];

/** A pattern in the token syntax as a regular expression's source, for ordinary text or for text whose word gaps were lost. */
export function patternSource(source: string, joined: boolean): string {
  return joined
    ? source.replace(/\\b/g, '').replace(/~(\d)/g, (_, n) => `[\\p{L}\\p{N}]{0,${Number(n) * 12}}?`).replace(/_\??/g, '').replace(/ \?/g, '').replace(/ /g, '')
    : source.replace(/~(\d)/g, (_, n) => `(?: \\S+){0,${n}}? `).replace(/_/g, ' ');
}

/** Compiles a pattern in the token syntax, for ordinary text or for text whose word gaps were lost. */
export function compilePattern(source: string, joined: boolean): RegExp {
  return new RegExp(patternSource(source, joined), 'u');
}

/**
 * A pattern that costs nothing until a text may match it. V8 compiles a regular expression on its
 * first use, and bounded gaps (`{0,N}`: the `~N` words, `[^.]{0,40}`) and word boundaries (`\b`,
 * under the `u` flag) are what make that compile slow (tens of ms per pattern on a cold start). So
 * each pattern is first tried as a prefilter without them (`{0,N}` as `*`, `\b` dropped), which
 * compiles in about a millisecond and matches a superset of what the exact pattern matches (a
 * dropped bound or assertion only widens a pattern); the exact pattern is compiled and tried only
 * when the prefilter matched. Results are those of the exact pattern alone. Both compile once, on first need.
 * Before either, the text must contain one of the pattern's necessary literals (`phrase-literals.ts`,
 * found by `literals.ts` when the library is built): a clean text usually contains none, and then no
 * pattern compiles at all.
 */
export class LazyPattern {
  private prefilter?: RegExp;
  private exact?: RegExp;

  /**
   * @param source the pattern in the token syntax; @param joined for text whose word gaps were lost
   * @param literals strings one of which every match contains (`phrase-literals.ts`); none: every text is tried
   */
  constructor(private readonly source: string, private readonly joined: boolean, private readonly literals?: readonly string[]) {}

  /** True when the exact pattern matches the text. */
  public test(text: string): boolean {
    // A text without any of the pattern's necessary literals cannot match: nothing to compile for it.
    if (!containsAny(text, this.literals)) return false;
    this.prefilter ??= unbounded(compilePattern(this.source, this.joined));
    if (!this.prefilter.test(text)) return false;
    this.exact ??= compilePattern(this.source, this.joined);
    return this.exact.test(text);
  }
}

/** True when `text` contains one of `literals` (always, when there are none to check). */
export function containsAny(text: string, literals: readonly string[] | undefined): boolean {
  if (!literals) return true;
  for (const literal of literals) if (text.includes(literal)) return true;
  return false;
}

/** The same pattern without its `{0,N}` bounds and `\b` assertions: matches wherever the exact one does. */
export function unbounded(re: RegExp): RegExp {
  return new RegExp(re.source.replace(/\{0,\d+\}/g, '*').replace(/\\b/g, ''), re.flags);
}

const SPACED = PHRASE_PATTERNS.map((p) => ({ name: p.name, re: new LazyPattern(p.source, false, PHRASE_LITERALS[p.name]?.spaced) }));
const JOINED = PHRASE_PATTERNS.map((p) => ({ name: p.name, re: new LazyPattern(p.source, true, PHRASE_LITERALS[p.name]?.joined) }));

/**
 * Names of the phrase patterns found in a normalized text. `joined` screens text whose word gaps
 * were lost (letters spaced out one by one).
 */
export function findPhrases(folded: string, joined = false): string[] {
  const list = joined ? JOINED : SPACED;
  // Word gaps around the text let `~N` gaps and `\b` work at its edges.
  const text = joined ? folded : ` ${folded} `;
  return list.filter(({ re }) => re.test(text)).map(({ name }) => name);
}
