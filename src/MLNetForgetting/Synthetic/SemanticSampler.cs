namespace MLNetForgetting.Synthetic;

/// <summary>
/// Draws semantic sentences and NLI pairs. Each pair is made by a label-specific edit of a random
/// premise, then checked against <see cref="NliOracle"/>: the oracle, not the edit, defines the label,
/// and an edit that happens to produce another label (e.g. swapping two identical noun phrases) is redrawn.
/// </summary>
internal sealed class SemanticSampler
{
    private readonly SyntheticGrammar _g;
    private readonly SyntheticTestbedOptions _o;

    public SemanticSampler(SyntheticGrammar grammar, SyntheticTestbedOptions options)
    {
        _g = grammar;
        _o = options;
    }

    public SemanticSentence CorpusSentence(DeterministicRandom rng)
    {
        // Corpus phrases may carry one adjective more than premises, since hypotheses do (neutral adds one).
        int maxMods = Math.Min(_g.Dimensions.Count, _o.MaxPremiseModifiers + 1);
        return new SemanticSentence(
            Phrase(rng, maxMods, _o.CorpusCategoryRate), rng.Next(_g.Verbs.Count),
            Phrase(rng, maxMods, _o.CorpusCategoryRate), rng.Chance(_o.CorpusNegationRate));
    }

    public List<SemanticNliExample> NliExamples(DeterministicRandom rng, int count)
    {
        // Exactly balanced (up to count % 3), in shuffled order so that position says nothing about the label.
        var labels = Enumerable.Range(0, count).Select(i => NliLabels.All[i % 3]).ToList();
        rng.Shuffle(labels);
        var result = new List<SemanticNliExample>(count);
        foreach (string label in labels) result.Add(Example(rng, label));
        return result;
    }

    private SemanticNliExample Example(DeterministicRandom rng, string label)
    {
        for (int attempt = 0; attempt < 1000; attempt++)
        {
            var premise = new SemanticSentence(
                Phrase(rng, _o.MaxPremiseModifiers, _o.PremiseCategoryRate), rng.Next(_g.Verbs.Count),
                Phrase(rng, _o.MaxPremiseModifiers, _o.PremiseCategoryRate), false);
            var (hypothesis, transformation) = label switch
            {
                NliLabels.Entailment => Entailment(rng, premise),
                NliLabels.Neutral => Neutral(rng, premise),
                _ => Contradiction(rng, premise),
            };
            if (NliOracle.Label(_g, premise, hypothesis) == label)
                return new SemanticNliExample(premise, hypothesis, label, transformation);
        }
        throw new InvalidOperationException($"Could not generate a '{label}' pair in 1000 attempts; the options leave too little room.");
    }

    private (SemanticSentence, string) Entailment(DeterministicRandom rng, SemanticSentence p)
    {
        double r = rng.NextDouble();
        if (_o.IncludeNegatedEntailments && r < 0.2)
        {
            // Negating a false statement: in the closed scene, the single event is the only one that holds.
            var falseStatement = rng.Chance(0.5) ? Swap(p) : p with { Verb = OtherVerb(rng, p.Verb) };
            return (DropNoise(rng, falseStatement) with { Negated = true }, "negated-false");
        }
        if (r < 0.55 && _g.Categories.Count > 0)
        {
            bool subject = rng.Chance(0.5);
            var np = subject ? p.Subject : p.Object;
            if (!np.Head.IsCategory)
            {
                np = np with { Head = NounHead.Category(_g.NounCategory[np.Head.Index]) };
                return (DropNoise(rng, subject ? p with { Subject = np } : p with { Object = np }), "generalise");
            }
        }
        // Each adjective dropped with probability 1/2, so sometimes none is (a plain restatement).
        return (p with { Subject = Drop(rng, p.Subject, 0.5, -1), Object = Drop(rng, p.Object, 0.5, -1) }, "drop-modifiers");
    }

    private (SemanticSentence, string) Contradiction(DeterministicRandom rng, SemanticSentence p)
    {
        double r = rng.NextDouble();
        if (r < 0.35 && p.Subject.Attributes.Count + p.Object.Attributes.Count > 0)
        {
            bool subject = p.Object.Attributes.Count == 0 || (p.Subject.Attributes.Count > 0 && rng.Chance(0.5));
            var np = subject ? p.Subject : p.Object;
            int dim = rng.Pick(np.Attributes.SpecifiedDimensions.ToList());
            int value = np.Attributes[dim]!.Value;
            int other = (value + 1 + rng.Next(_g.Dimensions[dim].Values.Count - 1)) % _g.Dimensions[dim].Values.Count;
            np = Drop(rng, np with { Attributes = np.Attributes.With(dim, other) }, _o.HypothesisDropRate, dim);
            var h = subject ? p with { Subject = np, Object = Drop(rng, p.Object, _o.HypothesisDropRate, -1) }
                            : p with { Object = np, Subject = Drop(rng, p.Subject, _o.HypothesisDropRate, -1) };
            return (h, "antonym");
        }
        if (r < 0.6) return (DropNoise(rng, Swap(p)), "swap-roles");
        if (r < 0.85) return (DropNoise(rng, p) with { Negated = true }, "negation");
        return (DropNoise(rng, p with { Verb = OtherVerb(rng, p.Verb) }), "verb-change");
    }

    private (SemanticSentence, string) Neutral(DeterministicRandom rng, SemanticSentence p)
    {
        if (rng.Chance(0.15) && (p.Subject.Head.IsCategory || p.Object.Head.IsCategory))
        {
            bool subject = p.Subject.Head.IsCategory && (!p.Object.Head.IsCategory || rng.Chance(0.5));
            var np = subject ? p.Subject : p.Object;
            np = np with { Head = NounHead.Noun(rng.Pick(_g.NounsByCategory[np.Head.Index])) };
            return (DropNoise(rng, subject ? p with { Subject = np } : p with { Object = np }), "specialise");
        }
        {
            // Every premise phrase leaves at least one dimension open (MaxPremiseModifiers < dimensions).
            bool subject = rng.Chance(0.5);
            var np = subject ? p.Subject : p.Object;
            var open = Enumerable.Range(0, _g.Dimensions.Count).Where(d => np.Attributes[d] is null).ToList();
            int dim = rng.Pick(open);
            np = Drop(rng, np, _o.HypothesisDropRate, -1);
            np = np with { Attributes = np.Attributes.With(dim, rng.Next(_g.Dimensions[dim].Values.Count)) };
            var h = subject ? p with { Subject = np, Object = Drop(rng, p.Object, _o.HypothesisDropRate, -1) }
                            : p with { Object = np, Subject = Drop(rng, p.Subject, _o.HypothesisDropRate, -1) };
            return (h, "add-modifier");
        }
    }

    private static SemanticSentence Swap(SemanticSentence p) => p with { Subject = p.Object, Object = p.Subject };

    private int OtherVerb(DeterministicRandom rng, int verb) => (verb + 1 + rng.Next(_g.Verbs.Count - 1)) % _g.Verbs.Count;

    private SemanticSentence DropNoise(DeterministicRandom rng, SemanticSentence s) =>
        s with { Subject = Drop(rng, s.Subject, _o.HypothesisDropRate, -1), Object = Drop(rng, s.Object, _o.HypothesisDropRate, -1) };

    private static NounPhrase Drop(DeterministicRandom rng, NounPhrase np, double rate, int keep)
    {
        var attributes = np.Attributes;
        foreach (int d in np.Attributes.SpecifiedDimensions)
            if (d != keep && rng.Chance(rate)) attributes = attributes.With(d, null);
        return np with { Attributes = attributes };
    }

    private NounPhrase Phrase(DeterministicRandom rng, int maxModifiers, double categoryRate)
    {
        var head = _g.Categories.Count > 0 && rng.Chance(categoryRate)
            ? NounHead.Category(rng.Next(_g.Categories.Count))
            : NounHead.Noun(rng.Next(_g.Nouns.Count));
        var dims = Enumerable.Range(0, _g.Dimensions.Count).ToList();
        rng.Shuffle(dims);
        var attributes = AttributeSet.Empty;
        foreach (int d in dims.Take(rng.Next(0, maxModifiers)))
            attributes = attributes.With(d, rng.Next(_g.Dimensions[d].Values.Count));
        return new NounPhrase(head, attributes);
    }
}
