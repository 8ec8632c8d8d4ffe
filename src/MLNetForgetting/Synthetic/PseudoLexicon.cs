namespace MLNetForgetting.Synthetic;

/// <summary>
/// Generates a derived language's lexicon: pronounceable consonant-vowel pseudo-words written in the
/// language's script, all distinct and prefix-free (no form is a prefix of another), which is what
/// lets text without spaces or with glued morphemes be split back into words unambiguously.
/// </summary>
internal static class PseudoLexicon
{
    // Abstract phonemes; each script spells syllable (consonant, vowel) its own way.
    private const string Consonants = "ptkmnslrvdgb";
    private const string Vowels = "aeiou";

    private static readonly Dictionary<SyntheticScript, (string Consonants, string Vowels)> Alphabets = new()
    {
        [SyntheticScript.Latin] = (Consonants, Vowels),
        [SyntheticScript.Cyrillic] = ("птклнсмрвдгб", "аеиоу"),
        [SyntheticScript.Greek] = ("πτκμνσλρφδγβ", "αειου"),
        [SyntheticScript.Georgian] = ("პტკმნსლრვდგბ", "აეიოუ"),
    };

    // Hiragana is a syllabary: one kana per (consonant row, vowel). Rows: p t k m n s r h d g b z.
    private static readonly string[] KanaRows =
    {
        "ぱぴぷぺぽ", "たちつてと", "かきくけこ", "まみむめも", "なにぬねの", "さしすせそ",
        "らりるれろ", "はひふへほ", "だぢづでど", "がぎぐげご", "ばびぶべぼ", "ざじずぜぞ",
    };

    public static (Dictionary<Lexeme, string> Forms, IReadOnlySet<string> Shared) Generate(
        SyntheticGrammar g, DerivedLanguageSpec spec, SyntheticLanguage english, int seed)
    {
        var rng = new DeterministicRandom(DeterministicRandom.Mix((ulong)seed, DeterministicRandom.Hash("lexicon"), DeterministicRandom.Hash(spec.Code)));
        var englishForms = new HashSet<string>(english.Vocabulary, StringComparer.Ordinal);
        var forms = new Dictionary<Lexeme, string>();
        var taken = new List<string>();
        var shared = new HashSet<string>(StringComparer.Ordinal);

        // Shared (loan) words first, so generated words are chosen around them.
        var candidates = SyntheticLanguage.AllLexemes(g)
            .Where(l => l.Kind is LexemeKind.Noun or LexemeKind.Category or LexemeKind.Adjective).ToList();
        int sharedCount = (int)Math.Round(spec.LexiconOverlap * candidates.Count, MidpointRounding.AwayFromZero);
        rng.Shuffle(candidates);
        foreach (var lexeme in candidates.Take(sharedCount))
        {
            string form = english.Form(lexeme);
            // An English word that is a prefix of another shared one would make segmentation ambiguous; it gets a pseudo-word instead.
            if (!Fits(form, taken)) continue;
            forms[lexeme] = form;
            taken.Add(form);
            shared.Add(form);
        }

        string NewWord(int syllables) => Draw(rng, spec.Script, syllables, taken, englishForms);

        forms[new(LexemeKind.Article)] = NewWord(1);
        forms[new(LexemeKind.Auxiliary)] = NewWord(1);
        forms[new(LexemeKind.Negation)] = NewWord(1);

        // Verbs share a stem between the finite and the base form, with one suffix per form, as in a real paradigm.
        string finiteSuffix = Syllable(rng, spec.Script);
        string baseSuffix;
        do baseSuffix = Syllable(rng, spec.Script); while (baseSuffix == finiteSuffix);
        for (int i = 0; i < g.Verbs.Count; i++)
        {
            for (int attempt = 0; ; attempt++)
            {
                if (attempt > 10_000) throw new InvalidOperationException($"{spec.Code}: could not place verb {g.Verbs[i]}.");
                string stem = string.Concat(Enumerable.Range(0, rng.Next(spec.MinSyllables - 1, spec.MaxSyllables - 1)).Select(_ => Syllable(rng, spec.Script)));
                string finite = stem + finiteSuffix, bare = stem + baseSuffix;
                if (englishForms.Contains(finite) || englishForms.Contains(bare) || !Fits(finite, taken)) continue;
                taken.Add(finite);
                if (!Fits(bare, taken)) { taken.RemoveAt(taken.Count - 1); continue; }
                taken.Add(bare);
                forms[new(LexemeKind.FiniteVerb, i)] = finite;
                forms[new(LexemeKind.BaseVerb, i)] = bare;
                break;
            }
        }

        foreach (var lexeme in SyntheticLanguage.AllLexemes(g))
        {
            if (forms.ContainsKey(lexeme)) continue;
            forms[lexeme] = NewWord(rng.Next(spec.MinSyllables, spec.MaxSyllables));
        }
        return (forms, shared);
    }

    private static string Draw(DeterministicRandom rng, SyntheticScript script, int syllables, List<string> taken, HashSet<string> englishForms)
    {
        for (int attempt = 0; attempt < 10_000; attempt++)
        {
            string word = string.Concat(Enumerable.Range(0, syllables).Select(_ => Syllable(rng, script)));
            if (englishForms.Contains(word) || !Fits(word, taken)) continue;
            taken.Add(word);
            return word;
        }
        throw new InvalidOperationException($"Could not draw a distinct {syllables}-syllable {script} word; the lexicon is too large for the syllable inventory.");
    }

    private static bool Fits(string word, List<string> taken) =>
        taken.All(t => !t.StartsWith(word, StringComparison.Ordinal) && !word.StartsWith(t, StringComparison.Ordinal));

    private static string Syllable(DeterministicRandom rng, SyntheticScript script)
    {
        int c = rng.Next(Consonants.Length), v = rng.Next(Vowels.Length);
        if (script == SyntheticScript.Hiragana) return KanaRows[c][v].ToString();
        var (cs, vs) = Alphabets[script];
        return string.Concat(cs[c], vs[v]);
    }
}
