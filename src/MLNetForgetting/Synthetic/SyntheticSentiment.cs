namespace MLNetForgetting.Synthetic;

/// <summary>One sentence of the synthetic sentiment task and its label (<see cref="SyntheticSentiment.Positive"/> or <see cref="SyntheticSentiment.Negative"/>).</summary>
internal sealed record SentimentExample(string Text, string Label);

/// <summary>Knobs of <see cref="SyntheticSentiment"/>.</summary>
internal sealed record SyntheticSentimentOptions
{
    /// <summary>Fraction of corpus sentences with a non-zero valence that are followed by the remark "it was good/bad".</summary>
    public double RemarkRate { get; init; } = 0.5;

    /// <summary>Probability that a remark states the opposite of the sentence's sentiment (label noise in the pretraining text).</summary>
    public double RemarkNoise { get; init; } = 0.1;

    internal void Validate()
    {
        if (!(RemarkRate is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(RemarkRate), RemarkRate, "RemarkRate must be in [0, 1].");
        if (!(RemarkNoise is >= 0 and <= 0.5)) throw new ArgumentOutOfRangeException(nameof(RemarkNoise), RemarkNoise, "RemarkNoise must be in [0, 0.5].");
    }
}

/// <summary>
/// A single-sentence sentiment task on the English testbed language whose answer a masked LM can
/// learn during pretraining: the positive control for prompt-based few-shot learning (LiST).
/// <para><b>Valence.</b> Some words carry a valence: the mood adjectives (happy +1, sad −1, on either
/// noun phrase) and some verbs (likes, finds +1; chases, pushes −1; with negation the verb's valence
/// flips). A sentence's valence is the sum; its sentiment is the sign (sentences with valence 0 have
/// none and are never task examples).</para>
/// <para><b>Pretraining text.</b> <see cref="Corpus"/> is the testbed's English corpus in which a share
/// of the sentences with a sentiment are followed by the remark word "good" or "bad"
/// (<see cref="SyntheticSentimentOptions.RemarkRate"/>), with a little noise. So the label words
/// <see cref="PositiveWord"/>/<see cref="NegativeWord"/> at the position of <see cref="Template"/>'s
/// &lt;mask&gt; are predictable from the sentence, as "great"/"terrible" after "It was" are in real text.
/// The remark follows the sentence directly (no "it was"): a tiny MLM trained for a few thousand updates
/// learns mostly short-range dependencies, and the object's mood adjective then sits two tokens before it.</para>
/// Needs the mood dimension (<see cref="SyntheticTestbedOptions.AttributeDimensionCount"/> ≥ 3) and
/// at least 5 verbs; deterministic for given options and seeds.
/// </summary>
internal sealed class SyntheticSentiment
{
    /// <summary>Label of a positive sentence.</summary>
    public const string Positive = "positive";
    /// <summary>Label of a negative sentence.</summary>
    public const string Negative = "negative";
    /// <summary>Label word of <see cref="Positive"/>.</summary>
    public const string PositiveWord = "good";
    /// <summary>Label word of <see cref="Negative"/>.</summary>
    public const string NegativeWord = "bad";
    /// <summary>The cloze template (LM-BFF syntax): the sentence, then &lt;mask&gt; where the corpus puts its remark word.</summary>
    public const string Template = "*cls**sent_0**mask**sep+*";

    private const int MoodDimension = 2;
    // Verb lemma → valence; the others are neutral.
    private static readonly Dictionary<string, int> VerbValence = new(StringComparer.Ordinal) { ["like"] = 1, ["find"] = 1, ["chase"] = -1, ["push"] = -1 };

    private readonly SyntheticTestbed _testbed;
    private readonly int[] _verbValence;

    /// <summary>The task on <paramref name="testbed"/>'s English.</summary>
    /// <exception cref="ArgumentException">The testbed has no mood dimension or too few verbs.</exception>
    public SyntheticSentiment(SyntheticTestbed testbed, SyntheticSentimentOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(testbed);
        Options = options ?? new SyntheticSentimentOptions();
        Options.Validate();
        var g = testbed.Grammar;
        if (g.Dimensions.Count <= MoodDimension || g.Dimensions[MoodDimension].Name != "mood")
            throw new ArgumentException("The sentiment task needs the mood dimension (happy/sad): AttributeDimensionCount must be at least 3.", nameof(testbed));
        _verbValence = g.Verbs.Select(v => VerbValence.GetValueOrDefault(v)).ToArray();
        if (!_verbValence.Contains(1) || !_verbValence.Contains(-1))
            throw new ArgumentException("The sentiment task needs a positive and a negative verb: VerbCount must be at least 5.", nameof(testbed));
        _testbed = testbed;
    }

    /// <summary>The options in effect.</summary>
    public SyntheticSentimentOptions Options { get; }

    /// <summary>Sum of the word valences (see the class remarks).</summary>
    public int Valence(SemanticSentence sentence)
    {
        int Mood(NounPhrase np) => np.Attributes[MoodDimension] switch { 0 => 1, 1 => -1, _ => 0 };
        int verb = _verbValence[sentence.Verb] * (sentence.Negated ? -1 : 1);
        return Mood(sentence.Subject) + Mood(sentence.Object) + verb;
    }

    /// <summary>The label of a sentence, or null when its valence is 0.</summary>
    public string? Label(SemanticSentence sentence) => Math.Sign(Valence(sentence)) switch { 1 => Positive, -1 => Negative, _ => null };

    /// <summary>
    /// Pretraining text (lazy, a prefix stream like <see cref="SyntheticTestbed.UnlabelledCorpus"/>): English
    /// corpus sentences, some followed by the remark word " good" or " bad".
    /// </summary>
    public IEnumerable<string> Corpus(int sentences, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sentences);
        return Iterate();

        IEnumerable<string> Iterate()
        {
            var rng = new DeterministicRandom(DeterministicRandom.Mix((ulong)_testbed.Options.Seed, DeterministicRandom.Hash("sentiment-remarks"), (ulong)seed));
            foreach (var s in _testbed.SemanticCorpus(SyntheticLanguage.EnglishCode, sentences, seed))
            {
                string text = _testbed.English.Render(s);
                // Both draws always happen, so one option does not shift the other's stream.
                bool remark = rng.Chance(Options.RemarkRate), flip = rng.Chance(Options.RemarkNoise);
                int sign = Math.Sign(Valence(s));
                if (remark && sign != 0) text += " " + ((sign > 0) != flip ? PositiveWord : NegativeWord);
                yield return text;
            }
        }
    }

    /// <summary>
    /// Labelled task sentences without remarks: corpus-distributed sentences with a sentiment, exactly
    /// balanced (counts differ by at most one) and in shuffled order. Different seeds give independent draws.
    /// </summary>
    public IReadOnlyList<SentimentExample> Examples(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new DeterministicRandom(DeterministicRandom.Mix((ulong)_testbed.Options.Seed, DeterministicRandom.Hash("sentiment-task"), (ulong)seed));
        var wanted = Enumerable.Range(0, count).Select(i => i % 2 == 0 ? Positive : Negative).ToList();
        rng.Shuffle(wanted);
        var pools = new Dictionary<string, Queue<string>> { [Positive] = new(), [Negative] = new() };
        // The task stream is the corpus generator under another seed space, so it has the pretraining distribution.
        using var sentences = _testbed.SemanticCorpus(SyntheticLanguage.EnglishCode, int.MaxValue, unchecked((int)rng.NextUInt64())).GetEnumerator();
        var result = new List<SentimentExample>(count);
        foreach (string label in wanted)
        {
            while (pools[label].Count == 0)
            {
                sentences.MoveNext();
                if (Label(sentences.Current) is { } l) pools[l].Enqueue(_testbed.English.Render(sentences.Current));
            }
            result.Add(new SentimentExample(pools[label].Dequeue(), label));
        }
        return result;
    }
}
