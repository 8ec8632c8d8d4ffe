namespace MLNetForgetting.Synthetic;

/// <summary>
/// The deterministic semantic rule that defines every label of the testbed.
/// </summary>
/// <remarks>
/// <para>A premise describes a closed scene: exactly two entities (the subject e1 and the object e2)
/// and exactly one event, verb(e1, e2). Whatever the premise leaves open (an unstated attribute, the
/// species behind a category word such as "animal") may take any value. The oracle enumerates every
/// scene consistent with the premise and evaluates the hypothesis in each.</para>
/// <para>A hypothesis "the D1 V the D2" is true in a scene when two distinct entities x, y fit the
/// descriptions D1, D2 and V(x, y) holds; "the D1 does not V the D2" is true when such x, y exist and
/// V(x, y) does not hold. Definite descriptions presuppose their referent, so a description that fits
/// no entity makes both forms false.</para>
/// <para>Entailment: true in every consistent scene. Contradiction: true in none. Neutral: otherwise.</para>
/// </remarks>
internal static class NliOracle
{
    /// <summary>The label of the pair (one of <see cref="NliLabels.All"/>).</summary>
    /// <exception cref="ArgumentException">The premise is negated: premises must describe a scene.</exception>
    public static string Label(SyntheticGrammar grammar, SemanticSentence premise, SemanticSentence hypothesis)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        if (premise.Negated) throw new ArgumentException("A premise must be affirmative: it describes the scene's single event.", nameof(premise));
        grammar.Validate(premise);
        grammar.Validate(hypothesis);

        var subjects = Completions(grammar, premise.Subject);
        var objects = Completions(grammar, premise.Object);
        bool anyTrue = false, anyFalse = false;
        foreach (var e1 in subjects)
        {
            foreach (var e2 in objects)
            {
                if (IsTrue(grammar, premise.Verb, e1, e2, hypothesis)) anyTrue = true; else anyFalse = true;
                if (anyTrue && anyFalse) return NliLabels.Neutral;
            }
        }
        return anyTrue ? NliLabels.Entailment : NliLabels.Contradiction;
    }

    // In a scene e1 --verb--> e2 is the only event.
    private static bool IsTrue(SyntheticGrammar g, int verb, Entity e1, Entity e2, SemanticSentence h)
    {
        bool forward = Fits(g, e1, h.Subject) && Fits(g, e2, h.Object);
        bool backward = Fits(g, e2, h.Subject) && Fits(g, e1, h.Object);
        if (!h.Negated) return forward && h.Verb == verb;
        // Some pair fits and the event does not link it: (e1,e2) with another verb, or (e2,e1) with any verb.
        return (forward && h.Verb != verb) || backward;
    }

    private static bool Fits(SyntheticGrammar g, Entity e, NounPhrase d)
    {
        if (!g.HeadCovers(d.Head, e.Noun)) return false;
        foreach (int dim in d.Attributes.SpecifiedDimensions)
            if (e.Attributes[dim] != d.Attributes[dim]) return false;
        return true;
    }

    private readonly record struct Entity(int Noun, AttributeSet Attributes);

    // Every fully specified entity a premise noun phrase may denote.
    private static List<Entity> Completions(SyntheticGrammar g, NounPhrase np)
    {
        var sets = new List<AttributeSet> { np.Attributes };
        for (int d = 0; d < g.Dimensions.Count; d++)
        {
            if (np.Attributes[d] is not null) continue;
            var next = new List<AttributeSet>(sets.Count * g.Dimensions[d].Values.Count);
            foreach (var s in sets)
                for (int v = 0; v < g.Dimensions[d].Values.Count; v++) next.Add(s.With(d, v));
            sets = next;
        }
        var result = new List<Entity>();
        foreach (int noun in g.NounsUnder(np.Head))
            foreach (var s in sets) result.Add(new Entity(noun, s));
        return result;
    }
}
