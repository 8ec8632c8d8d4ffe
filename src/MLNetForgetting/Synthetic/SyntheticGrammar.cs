namespace MLNetForgetting.Synthetic;

/// <summary>An attribute dimension whose values exclude each other (a thing is either big or small).</summary>
/// <param name="Name">E.g. "size".</param>
/// <param name="Values">English adjectives, e.g. "big", "small".</param>
internal sealed record AttributeDimension(string Name, IReadOnlyList<string> Values);

/// <summary>
/// The concept inventory shared by all languages of a testbed: nouns grouped into categories,
/// transitive verbs and attribute dimensions. Names are the English lemmas; other languages only
/// change the surface forms.
/// </summary>
internal sealed class SyntheticGrammar
{
    // Interleaved by category so that taking the first N nouns keeps the categories balanced.
    private static readonly (string Noun, int Category)[] NounPool =
    {
        ("dog", 0), ("man", 1), ("car", 2), ("cat", 0), ("woman", 1), ("boat", 2),
        ("bird", 0), ("boy", 1), ("train", 2), ("horse", 0), ("girl", 1), ("truck", 2),
        ("fox", 0), ("king", 1), ("bus", 2), ("cow", 0), ("queen", 1), ("ship", 2),
        ("goat", 0), ("doctor", 1), ("plane", 2), ("sheep", 0), ("farmer", 1), ("wagon", 2),
    };

    private static readonly string[] CategoryPool = { "animal", "person", "vehicle" };

    private static readonly (string Finite, string Base)[] VerbPool =
    {
        ("sees", "see"), ("chases", "chase"), ("follows", "follow"), ("likes", "like"),
        ("pushes", "push"), ("finds", "find"), ("hears", "hear"), ("helps", "help"),
        ("watches", "watch"), ("pulls", "pull"), ("visits", "visit"), ("meets", "meet"),
    };

    // Antonym pairs, listed in the canonical English adjective order (size before age before ...).
    private static readonly AttributeDimension[] DimensionPool =
    {
        new("size", new[] { "big", "small" }),
        new("age", new[] { "old", "young" }),
        new("mood", new[] { "happy", "sad" }),
        new("speed", new[] { "fast", "slow" }),
        new("strength", new[] { "strong", "weak" }),
    };

    /// <summary>Largest <see cref="SyntheticTestbedOptions.NounCount"/> supported.</summary>
    public static int MaxNouns => NounPool.Length;

    /// <summary>Largest <see cref="SyntheticTestbedOptions.VerbCount"/> supported.</summary>
    public static int MaxVerbs => VerbPool.Length;

    /// <summary>Largest <see cref="SyntheticTestbedOptions.AttributeDimensionCount"/> supported.</summary>
    public static int MaxDimensions => DimensionPool.Length;

    internal SyntheticGrammar(int nounCount, int verbCount, int dimensionCount, bool useCategories)
    {
        var nouns = NounPool.Take(nounCount).ToArray();
        Nouns = nouns.Select(n => n.Noun).ToArray();
        var usedCategories = useCategories
            ? nouns.Select(n => n.Category).Distinct().Order().ToArray()
            : Array.Empty<int>();
        Categories = usedCategories.Select(c => CategoryPool[c]).ToArray();
        NounCategory = nouns.Select(n => Array.IndexOf(usedCategories, n.Category)).ToArray();
        Verbs = VerbPool.Take(verbCount).Select(v => v.Base).ToArray();
        FiniteVerbs = VerbPool.Take(verbCount).Select(v => v.Finite).ToArray();
        Dimensions = DimensionPool.Take(dimensionCount).ToArray();
        NounsByCategory = Enumerable.Range(0, Categories.Count)
            .Select(c => (IReadOnlyList<int>)Enumerable.Range(0, Nouns.Count).Where(n => NounCategory[n] == c).ToArray())
            .ToArray();
    }

    /// <summary>Concrete nouns (English lemmas).</summary>
    public IReadOnlyList<string> Nouns { get; }

    /// <summary>Category (hypernym) words; empty when categories are switched off.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>Category index of each noun, or -1 when categories are switched off.</summary>
    public IReadOnlyList<int> NounCategory { get; }

    /// <summary>Nouns of each category.</summary>
    public IReadOnlyList<IReadOnlyList<int>> NounsByCategory { get; }

    /// <summary>Verb lemmas (base forms: "see").</summary>
    public IReadOnlyList<string> Verbs { get; }

    /// <summary>Third-person finite verb forms ("sees"), parallel to <see cref="Verbs"/>.</summary>
    public IReadOnlyList<string> FiniteVerbs { get; }

    /// <summary>Attribute dimensions in canonical adjective order.</summary>
    public IReadOnlyList<AttributeDimension> Dimensions { get; }

    /// <summary>True when the head names <paramref name="noun"/> or a category containing it.</summary>
    public bool HeadCovers(NounHead head, int noun) =>
        head.IsCategory ? NounCategory[noun] == head.Index : head.Index == noun;

    /// <summary>The concrete nouns a head may refer to.</summary>
    public IReadOnlyList<int> NounsUnder(NounHead head) =>
        head.IsCategory ? NounsByCategory[head.Index] : new[] { head.Index };

    internal void Validate(SemanticSentence s)
    {
        Validate(s.Subject);
        Validate(s.Object);
        if ((uint)s.Verb >= (uint)Verbs.Count) throw new ArgumentOutOfRangeException(nameof(s), $"verb index {s.Verb} is outside 0..{Verbs.Count - 1}");
    }

    private void Validate(NounPhrase np)
    {
        int heads = np.Head.IsCategory ? Categories.Count : Nouns.Count;
        if ((uint)np.Head.Index >= (uint)heads) throw new ArgumentOutOfRangeException(nameof(np), $"head {np.Head} is outside the grammar");
        foreach (int d in np.Attributes.SpecifiedDimensions)
        {
            if (d >= Dimensions.Count || np.Attributes[d] >= Dimensions[d].Values.Count)
                throw new ArgumentOutOfRangeException(nameof(np), $"attribute {d}:{np.Attributes[d]} is outside the grammar");
        }
    }
}
