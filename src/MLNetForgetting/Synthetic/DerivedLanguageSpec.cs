namespace MLNetForgetting.Synthetic;

/// <summary>Writing system of a derived language's pseudo-words.</summary>
internal enum SyntheticScript
{
    /// <summary>Latin letters (shares English's characters but not its words).</summary>
    Latin,
    /// <summary>Cyrillic letters.</summary>
    Cyrillic,
    /// <summary>Greek letters.</summary>
    Greek,
    /// <summary>Japanese hiragana, one kana per syllable.</summary>
    Hiragana,
    /// <summary>Georgian (Mkhedruli) letters.</summary>
    Georgian,
}

/// <summary>Order of subject (S), verb phrase (V) and object (O).</summary>
internal enum WordOrder
{
    /// <summary>Subject verb object (English).</summary>
    SVO,
    /// <summary>Subject object verb (Japanese, Turkish, Hindi).</summary>
    SOV,
    /// <summary>Verb subject object (Welsh, Classical Arabic).</summary>
    VSO,
    /// <summary>Verb object subject (Malagasy).</summary>
    VOS,
    /// <summary>Object verb subject (Hixkaryana).</summary>
    OVS,
    /// <summary>Object subject verb (rare).</summary>
    OSV,
}

/// <summary>How words are separated in writing.</summary>
internal enum Segmentation
{
    /// <summary>Words separated by single spaces.</summary>
    Spaces,
    /// <summary>No separators at all, like Thai or Chinese; a tokenizer must discover word boundaries.</summary>
    NoSpaces,
}

/// <summary>
/// How a target language is derived from the English-like base language. The core is a word-level
/// bijection (every English word form gets its own pseudo-word); the other settings are the
/// controlled deviations (script, word order, adjective position, segmentation, morphology, shared words).
/// </summary>
internal sealed record DerivedLanguageSpec
{
    /// <summary>Language code, used in file names (letters, digits, '-' or '_'; not "en").</summary>
    public required string Code { get; init; }

    /// <summary>Writing system of the generated pseudo-words.</summary>
    public SyntheticScript Script { get; init; } = SyntheticScript.Cyrillic;

    /// <summary>Constituent order.</summary>
    public WordOrder WordOrder { get; init; } = WordOrder.SVO;

    /// <summary>Adjectives follow the noun ("the dog big") instead of preceding it.</summary>
    public bool AdjectivesAfterNoun { get; init; }

    /// <summary>Word separation in writing.</summary>
    public Segmentation Segmentation { get; init; } = Segmentation.Spaces;

    /// <summary>
    /// Function words become bound morphemes: the article is a suffix of the noun and the
    /// auxiliary + negation are prefixes of the verb, so one written word carries several English words.
    /// </summary>
    public bool Agglutinative { get; init; }

    /// <summary>
    /// Fraction (0..1) of nouns, category words and adjectives that keep their English spelling
    /// (like loanwords or names), giving the relearned embeddings shared anchors. 0 = disjoint vocabulary.
    /// </summary>
    public double LexiconOverlap { get; init; }

    /// <summary>Fewest syllables in a content word (function words have one).</summary>
    public int MinSyllables { get; init; } = 2;

    /// <summary>Most syllables in a content word.</summary>
    public int MaxSyllables { get; init; } = 3;

    /// <summary>Same order as English, new lexicon in Cyrillic: only the vocabulary changes.</summary>
    public static DerivedLanguageSpec Xa => new() { Code = "xa", Script = SyntheticScript.Cyrillic };

    /// <summary>SOV, adjectives after the noun, Greek script.</summary>
    public static DerivedLanguageSpec Xb => new() { Code = "xb", Script = SyntheticScript.Greek, WordOrder = WordOrder.SOV, AdjectivesAfterNoun = true };

    /// <summary>English order, hiragana, no spaces between words.</summary>
    public static DerivedLanguageSpec Xc => new() { Code = "xc", Script = SyntheticScript.Hiragana, Segmentation = Segmentation.NoSpaces };

    /// <summary>English order, Georgian script, agglutinative function morphemes.</summary>
    public static DerivedLanguageSpec Xd => new() { Code = "xd", Script = SyntheticScript.Georgian, Agglutinative = true };

    /// <summary>The default target languages: <see cref="Xa"/>, <see cref="Xb"/>, <see cref="Xc"/>, <see cref="Xd"/>.</summary>
    public static IReadOnlyList<DerivedLanguageSpec> Defaults => new[] { Xa, Xb, Xc, Xd };

    internal void Validate()
    {
        if (string.IsNullOrEmpty(Code) || !Code.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"Language code '{Code}' must be non-empty ASCII letters, digits, '-' or '_'.");
        if (Code == SyntheticLanguage.EnglishCode) throw new ArgumentException("'en' is the base language and cannot be a target.");
        if (!Enum.IsDefined(Script)) throw new ArgumentException($"{Code}: unknown script {Script}.");
        if (!Enum.IsDefined(WordOrder)) throw new ArgumentException($"{Code}: unknown word order {WordOrder}.");
        if (!Enum.IsDefined(Segmentation)) throw new ArgumentException($"{Code}: unknown segmentation {Segmentation}.");
        if (LexiconOverlap is < 0 or > 1 || double.IsNaN(LexiconOverlap)) throw new ArgumentException($"{Code}: LexiconOverlap must be in [0, 1].");
        if (MinSyllables < 2 || MaxSyllables < MinSyllables || MaxSyllables > 6)
            throw new ArgumentException($"{Code}: syllable range must satisfy 2 <= MinSyllables <= MaxSyllables <= 6 (one-syllable words are reserved for function words).");
    }
}
