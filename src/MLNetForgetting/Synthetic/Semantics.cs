using System.Text;

namespace MLNetForgetting.Synthetic;

/// <summary>
/// The attribute values a noun phrase states: for each attribute dimension (size, age, ...) either
/// unspecified or one value index. Packed into one integer so that noun phrases and sentences have
/// value equality, which the alignment and round-trip checks rely on.
/// </summary>
internal readonly struct AttributeSet : IEquatable<AttributeSet>
{
    /// <summary>Most dimensions a set can hold (4 bits each in a 64-bit word).</summary>
    public const int MaxDimensions = 16;

    /// <summary>Most values one dimension can have (a 4-bit slot, 0 meaning unspecified).</summary>
    public const int MaxValuesPerDimension = 15;

    private readonly ulong _packed;

    private AttributeSet(ulong packed) => _packed = packed;

    /// <summary>No attribute stated.</summary>
    public static AttributeSet Empty => default;

    /// <summary>The value index stated for <paramref name="dimension"/>, or null when the phrase leaves it open.</summary>
    public int? this[int dimension]
    {
        get
        {
            CheckDimension(dimension);
            int slot = (int)((_packed >> (4 * dimension)) & 0xF);
            return slot == 0 ? null : slot - 1;
        }
    }

    /// <summary>How many dimensions are stated.</summary>
    public int Count
    {
        get
        {
            int n = 0;
            for (ulong p = _packed; p != 0; p >>= 4) if ((p & 0xF) != 0) n++;
            return n;
        }
    }

    /// <summary>The stated dimensions in ascending order (the canonical adjective order).</summary>
    public IEnumerable<int> SpecifiedDimensions
    {
        get
        {
            for (int d = 0; d < MaxDimensions; d++)
                if (((_packed >> (4 * d)) & 0xF) != 0) yield return d;
        }
    }

    /// <summary>A copy with <paramref name="dimension"/> set to <paramref name="value"/> (null clears it).</summary>
    public AttributeSet With(int dimension, int? value)
    {
        CheckDimension(dimension);
        if (value is < 0 or >= MaxValuesPerDimension) throw new ArgumentOutOfRangeException(nameof(value));
        ulong slot = value is null ? 0UL : (ulong)(value.Value + 1);
        ulong mask = 0xFUL << (4 * dimension);
        return new AttributeSet((_packed & ~mask) | (slot << (4 * dimension)));
    }

    /// <inheritdoc/>
    public bool Equals(AttributeSet other) => _packed == other._packed;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is AttributeSet other && Equals(other);

    /// <inheritdoc/>
    public override int GetHashCode() => _packed.GetHashCode();

    /// <summary>Value equality.</summary>
    public static bool operator ==(AttributeSet left, AttributeSet right) => left.Equals(right);

    /// <summary>Value inequality.</summary>
    public static bool operator !=(AttributeSet left, AttributeSet right) => !left.Equals(right);

    /// <summary>E.g. <c>{0:1, 2:0}</c> (dimension:value).</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("{");
        foreach (int d in SpecifiedDimensions)
        {
            if (sb.Length > 1) sb.Append(", ");
            sb.Append(d).Append(':').Append(this[d]);
        }
        return sb.Append('}').ToString();
    }

    private static void CheckDimension(int dimension)
    {
        if ((uint)dimension >= MaxDimensions) throw new ArgumentOutOfRangeException(nameof(dimension));
    }
}

/// <summary>The head of a noun phrase: a concrete noun ("dog") or a category word ("animal", a hypernym).</summary>
/// <param name="Index">Index into <see cref="SyntheticGrammar.Nouns"/> or, for a category, <see cref="SyntheticGrammar.Categories"/>.</param>
/// <param name="IsCategory">True for a hypernym head.</param>
internal readonly record struct NounHead(int Index, bool IsCategory)
{
    /// <summary>A concrete noun head.</summary>
    public static NounHead Noun(int index) => new(index, false);

    /// <summary>A category (hypernym) head.</summary>
    public static NounHead Category(int index) => new(index, true);
}

/// <summary>A definite noun phrase: "the" + stated attributes + head.</summary>
internal readonly record struct NounPhrase(NounHead Head, AttributeSet Attributes);

/// <summary>
/// The language-independent meaning of one sentence: subject, transitive verb, object and polarity.
/// Every language renders and parses exactly this structure, so a translation is
/// <c>target.Render(source.Parse(text))</c>.
/// </summary>
/// <param name="Subject">The agent.</param>
/// <param name="Verb">Index into <see cref="SyntheticGrammar.Verbs"/>.</param>
/// <param name="Object">The patient.</param>
/// <param name="Negated">True for "does not".</param>
internal readonly record struct SemanticSentence(NounPhrase Subject, int Verb, NounPhrase Object, bool Negated);

/// <summary>An NLI pair at the semantic level, before rendering into a language.</summary>
/// <param name="Premise">An affirmative scene description.</param>
/// <param name="Hypothesis">The statement to judge.</param>
/// <param name="Label">One of <see cref="NliLabels.All"/>, equal to <see cref="NliOracle.Label"/> of the pair.</param>
/// <param name="Transformation">Which edit produced the hypothesis (e.g. "drop-modifiers", "swap-roles"); for analysis only, the label never depends on it.</param>
internal sealed record SemanticNliExample(SemanticSentence Premise, SemanticSentence Hypothesis, string Label, string Transformation);

/// <summary>NLI label names, spelled as in XNLI and MNLI.</summary>
internal static class NliLabels
{
    /// <summary>The hypothesis is true in every scene the premise allows.</summary>
    public const string Entailment = "entailment";

    /// <summary>The hypothesis is true in some allowed scenes and not in others.</summary>
    public const string Neutral = "neutral";

    /// <summary>The hypothesis is true in no allowed scene.</summary>
    public const string Contradiction = "contradiction";

    /// <summary>All labels, in the order entailment, neutral, contradiction.</summary>
    public static readonly string[] All = { Entailment, Neutral, Contradiction };
}

/// <summary>One rendered NLI pair, as a row of an XNLI/MNLI-style TSV.</summary>
public sealed record NliExample(string Premise, string Hypothesis, string Label);
