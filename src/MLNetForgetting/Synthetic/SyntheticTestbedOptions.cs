namespace MLNetForgetting.Synthetic;

/// <summary>
/// Knobs of the synthetic testbed. The defaults are deliberately easy (small vocabulary, short
/// sentences) so that a tiny transformer trained for minutes on CPU gives a clear signal.
/// </summary>
public sealed record SyntheticTestbedOptions
{
    /// <summary>Master seed: lexicons of the derived languages and every generated stream derive from it.</summary>
    public int Seed { get; init; } = 0;

    /// <summary>Concrete nouns (3..24), spread evenly over the categories animal, person, vehicle.</summary>
    public int NounCount { get; init; } = 12;

    /// <summary>Transitive verbs (2..12); each has a finite and a base form.</summary>
    public int VerbCount { get; init; } = 6;

    /// <summary>Attribute dimensions (1..5), each an antonym pair: size, age, mood, speed, strength.</summary>
    public int AttributeDimensionCount { get; init; } = 3;

    /// <summary>Category words (animal, person, vehicle) as hypernyms; enables generalisation/specialisation pairs.</summary>
    public bool UseCategories { get; init; } = true;

    /// <summary>
    /// Most adjectives on one premise noun phrase (0..AttributeDimensionCount-1). It stays below the
    /// dimension count so that every premise leaves some attribute open, which neutral pairs need.
    /// </summary>
    public int MaxPremiseModifiers { get; init; } = 2;

    /// <summary>Probability that a premise noun phrase uses a category word ("the animal") instead of a noun.</summary>
    public double PremiseCategoryRate { get; init; } = 0.1;

    /// <summary>
    /// Probability of dropping each remaining premise adjective from a hypothesis on top of its main
    /// edit. Dropping never changes the label but blurs word-overlap cues (see the docs' bag-of-words baseline).
    /// </summary>
    public double HypothesisDropRate { get; init; } = 0.3;

    /// <summary>
    /// Include entailments of the form "negation of a false statement" ("the cat does not see the dog"
    /// given "the dog sees the cat"), which need the closed-world reading of the scene.
    /// </summary>
    public bool IncludeNegatedEntailments { get; init; } = true;

    /// <summary>Probability that an unlabelled-corpus sentence is negated.</summary>
    public double CorpusNegationRate { get; init; } = 0.25;

    /// <summary>Probability that an unlabelled-corpus noun phrase uses a category word.</summary>
    public double CorpusCategoryRate { get; init; } = 0.15;

    /// <summary>The derived target languages (default xa, xb, xc, xd).</summary>
    internal IReadOnlyList<DerivedLanguageSpec> TargetLanguages { get; init; } = DerivedLanguageSpec.Defaults;

    internal void Validate()
    {
        static void Range(string name, double value, double min, double max)
        {
            if (double.IsNaN(value) || value < min || value > max)
                throw new ArgumentOutOfRangeException(name, value, $"{name} must be in [{min}, {max}].");
        }
        Range(nameof(NounCount), NounCount, 3, SyntheticGrammar.MaxNouns);
        Range(nameof(VerbCount), VerbCount, 2, SyntheticGrammar.MaxVerbs);
        Range(nameof(AttributeDimensionCount), AttributeDimensionCount, 1, SyntheticGrammar.MaxDimensions);
        Range(nameof(MaxPremiseModifiers), MaxPremiseModifiers, 0, AttributeDimensionCount - 1);
        Range(nameof(PremiseCategoryRate), PremiseCategoryRate, 0, 1);
        Range(nameof(HypothesisDropRate), HypothesisDropRate, 0, 1);
        Range(nameof(CorpusNegationRate), CorpusNegationRate, 0, 1);
        Range(nameof(CorpusCategoryRate), CorpusCategoryRate, 0, 1);
        ArgumentNullException.ThrowIfNull(TargetLanguages, nameof(TargetLanguages));
        foreach (var spec in TargetLanguages)
        {
            ArgumentNullException.ThrowIfNull(spec, nameof(TargetLanguages));
            spec.Validate();
        }
        var duplicate = TargetLanguages.GroupBy(s => s.Code).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"Target language code '{duplicate.Key}' appears twice.", nameof(TargetLanguages));
    }
}
