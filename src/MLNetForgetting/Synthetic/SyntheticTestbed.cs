using System.Globalization;
using System.Text;
using MLNetForgetting.Persistence;

namespace MLNetForgetting.Synthetic;

/// <summary>
/// A deterministic, download-free plasticity benchmark: an English-like language with a small scene
/// grammar, target languages derived from it (new lexicon and script, other word order, other
/// segmentation), unlabelled corpora in each, and an NLI task whose labels follow from
/// <see cref="NliOracle"/>. See docs/synthetic-testbed.md.
/// </summary>
public sealed class SyntheticTestbed
{
    private readonly SemanticSampler _sampler;
    private readonly Dictionary<string, SyntheticLanguage> _byCode;

    /// <summary>Builds the grammar and every language's lexicon from <paramref name="options"/> (defaults when null).</summary>
    /// <exception cref="ArgumentException">An option is out of range or two target languages share a code.</exception>
    public SyntheticTestbed(SyntheticTestbedOptions? options = null)
    {
        Options = options ?? new SyntheticTestbedOptions();
        Options.Validate();
        Grammar = new SyntheticGrammar(Options.NounCount, Options.VerbCount, Options.AttributeDimensionCount, Options.UseCategories);
        English = SyntheticLanguage.CreateEnglish(Grammar);
        TargetLanguages = Options.TargetLanguages.Select(s => SyntheticLanguage.CreateDerived(Grammar, s, English, Options.Seed)).ToArray();
        Languages = new[] { English }.Concat(TargetLanguages).ToArray();
        _byCode = Languages.ToDictionary(l => l.Code, StringComparer.Ordinal);
        _sampler = new SemanticSampler(Grammar, Options);
    }

    /// <summary>The options in effect.</summary>
    public SyntheticTestbedOptions Options { get; }

    /// <summary>The concept inventory shared by all languages.</summary>
    internal SyntheticGrammar Grammar { get; }

    /// <summary>The English-like base language (code "en").</summary>
    internal SyntheticLanguage English { get; }

    /// <summary>The derived languages, in the order of <see cref="SyntheticTestbedOptions.TargetLanguages"/>.</summary>
    internal IReadOnlyList<SyntheticLanguage> TargetLanguages { get; }

    /// <summary>English followed by the target languages.</summary>
    internal IReadOnlyList<SyntheticLanguage> Languages { get; }

    /// <summary>The language with this code.</summary>
    /// <exception cref="ArgumentException">Unknown code; the message lists the known ones.</exception>
    internal SyntheticLanguage Language(string code)
    {
        ArgumentNullException.ThrowIfNull(code);
        return _byCode.TryGetValue(code, out var language)
            ? language
            : throw new ArgumentException($"Unknown synthetic language '{code}'. Known codes: {string.Join(", ", _byCode.Keys)}.", nameof(code));
    }

    /// <summary>
    /// The meanings behind <see cref="UnlabelledCorpus"/>. The language code is part of the seed, so
    /// corpora of different languages are not translations of each other (monolingual, as in practice).
    /// </summary>
    internal IEnumerable<SemanticSentence> SemanticCorpus(string languageCode, int sentences, int seed)
    {
        Language(languageCode);
        ArgumentOutOfRangeException.ThrowIfNegative(sentences);
        return Iterate();

        IEnumerable<SemanticSentence> Iterate()
        {
            var rng = new DeterministicRandom(DeterministicRandom.Mix((ulong)Options.Seed, DeterministicRandom.Hash("corpus"), DeterministicRandom.Hash(languageCode), (ulong)seed));
            for (int i = 0; i < sentences; i++) yield return _sampler.CorpusSentence(rng);
        }
    }

    /// <summary>Unlabelled sentences (one per item), generated lazily and deterministically from the options and <paramref name="seed"/>.</summary>
    public IEnumerable<string> UnlabelledCorpus(string languageCode, int sentences, int seed)
    {
        var language = Language(languageCode);
        return SemanticCorpus(languageCode, sentences, seed).Select(language.Render);
    }

    /// <summary>Labelled pairs at the semantic level; balanced labels (counts differ by at most one) in shuffled order.</summary>
    internal IReadOnlyList<SemanticNliExample> SemanticNliExamples(int count, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var rng = new DeterministicRandom(DeterministicRandom.Mix((ulong)Options.Seed, DeterministicRandom.Hash("nli"), (ulong)seed));
        return _sampler.NliExamples(rng, count);
    }

    /// <summary>
    /// <see cref="SemanticNliExamples"/> rendered in one language. The language is not part of the
    /// seed: with the same seed, row i is the same example in every language (aligned like XNLI).
    /// </summary>
    public IReadOnlyList<NliExample> NliExamples(string languageCode, int count, int seed)
    {
        var language = Language(languageCode);
        return SemanticNliExamples(count, seed)
            .Select(e => new NliExample(language.Render(e.Premise), language.Render(e.Hypothesis), e.Label))
            .ToArray();
    }

    /// <summary>Translates a sentence between two languages of this testbed (parse, then render).</summary>
    /// <exception cref="FormatException"><paramref name="text"/> is not a sentence of the source language.</exception>
    public string Translate(string text, string fromCode, string toCode) => Language(toCode).Render(Language(fromCode).Parse(text));

    /// <summary>The oracle label of a pair (see <see cref="NliOracle"/>).</summary>
    internal string Label(SemanticSentence premise, SemanticSentence hypothesis) => NliOracle.Label(Grammar, premise, hypothesis);

    /// <summary>File name of each language's corpus under raw/{code}/.</summary>
    public const string CorpusFileName = "synthetic.txt";

    /// <summary>Seeds <see cref="WriteDataset"/> uses, so that callers can regenerate any file in memory.</summary>
    public const int DatasetCorpusSeed = 0, DatasetDevSeed = 1, DatasetTrainSeed = 2;

    /// <summary>
    /// Writes the shared-data layout: raw/{code}/synthetic.txt (unlabelled, every language),
    /// xnli/dev/dev.{code}.tsv (premise, hypothesis, label; every language incl. en, rows aligned),
    /// glue_pools/MNLI/train.tsv (English training pairs: text_a, text_b, label) and SOURCES.md.
    /// Files are UTF-8 without BOM with \n line endings, each replaced atomically.
    /// </summary>
    /// <returns><paramref name="directory"/>.</returns>
    public string WriteDataset(string directory, int corpusSentences, int nliTrain, int nliDev)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        ArgumentOutOfRangeException.ThrowIfNegative(corpusSentences);
        ArgumentOutOfRangeException.ThrowIfNegative(nliTrain);
        ArgumentOutOfRangeException.ThrowIfNegative(nliDev);

        var dev = SemanticNliExamples(nliDev, DatasetDevSeed);
        foreach (var language in Languages)
        {
            WriteLines(Path.Combine(directory, "raw", language.Code, CorpusFileName), UnlabelledCorpus(language.Code, corpusSentences, DatasetCorpusSeed));
            WriteLines(Path.Combine(directory, "xnli", "dev", $"dev.{language.Code}.tsv"),
                dev.Select(e => Row(language.Render(e.Premise), language.Render(e.Hypothesis), e.Label)).Prepend("premise\thypothesis\tlabel"));
        }
        WriteLines(Path.Combine(directory, "glue_pools", "MNLI", "train.tsv"),
            SemanticNliExamples(nliTrain, DatasetTrainSeed).Select(e => Row(English.Render(e.Premise), English.Render(e.Hypothesis), e.Label)).Prepend("text_a\ttext_b\tlabel"));
        AtomicFile.WriteAllText(Path.Combine(directory, "SOURCES.md"), SourcesText(corpusSentences, nliTrain, nliDev));
        return directory;
    }

    // Generated text never contains tabs or newlines, so no quoting is needed.
    private static string Row(string a, string b, string label) => $"{a}\t{b}\t{label}";

    private static void WriteLines(string path, IEnumerable<string> lines) =>
        AtomicFile.Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
            foreach (string line in lines) writer.WriteLine(line);
        });

    private string SourcesText(int corpusSentences, int nliTrain, int nliDev)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# Synthetic testbed data (generated, no downloads)");
        sb.AppendLine();
        sb.AppendLine("Written by `MLNetForgetting.Synthetic.SyntheticTestbed.WriteDataset`; see docs/synthetic-testbed.md.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"Options: seed {Options.Seed}, {Options.NounCount} nouns, {Options.VerbCount} verbs, {Options.AttributeDimensionCount} attribute dimensions, categories {(Options.UseCategories ? "on" : "off")}, max premise modifiers {Options.MaxPremiseModifiers}.");
        sb.AppendLine();
        sb.AppendLine(CultureInfo.InvariantCulture, $"- `raw/{{code}}/{CorpusFileName}`: {corpusSentences} unlabelled sentences per language (corpus seed {DatasetCorpusSeed}; not parallel across languages).");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- `xnli/dev/dev.{{code}}.tsv`: {nliDev} labelled pairs (seed {DatasetDevSeed}), rows aligned across languages.");
        sb.AppendLine(CultureInfo.InvariantCulture, $"- `glue_pools/MNLI/train.tsv`: {nliTrain} English pairs (seed {DatasetTrainSeed}).");
        sb.AppendLine();
        sb.AppendLine("Languages:");
        foreach (var language in Languages) sb.AppendLine(CultureInfo.InvariantCulture, $"- `{language.Code}`: {language.Description}");
        return sb.ToString();
    }
}
