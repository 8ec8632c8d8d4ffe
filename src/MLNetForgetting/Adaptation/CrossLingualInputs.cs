using MLNetForgetting.Evaluation;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Text;

namespace MLNetForgetting.Adaptation;

/// <summary>One target language: its unlabelled corpus, its labelled dev pairs and optionally a ready tokenizer.</summary>
/// <param name="Code">Language code used in reports (e.g. "xa", "de").</param>
/// <param name="Corpus">Unlabelled text, re-enumerable (it is read several times: vocabulary, epochs).</param>
/// <param name="Dev">Labelled pairs for zero-shot evaluation; labels index <see cref="CrossLingualInputs.LabelNames"/>.</param>
/// <param name="Tokenizer">Target tokenizer; null to train one on <paramref name="Corpus"/> (<c>CrossLingualPipeline.Options.TargetVocabularySize</c>).</param>
public sealed record TargetLanguageInput(string Code, Func<IEnumerable<string?>> Corpus, IReadOnlyList<(string Premise, string Hypothesis, int Label)> Dev, SubwordTokenizer? Tokenizer = null);

/// <summary>Everything the cross-lingual pipeline (<c>MLNet.CrossLingual.CrossLingualPipeline</c>) reads, independent of where it came from.</summary>
/// <param name="LabelNames">The task's label set; every label id indexes it.</param>
/// <param name="SourceTrain">English task pairs (stage 3).</param>
/// <param name="SourceDev">English dev pairs, reported as <see cref="SourceLanguage"/>; null to skip.</param>
/// <param name="Targets">The target languages.</param>
public sealed record CrossLingualInputs(
    IReadOnlyList<string> LabelNames,
    IReadOnlyList<(string Premise, string Hypothesis, int Label)> SourceTrain,
    IReadOnlyList<(string Premise, string Hypothesis, int Label)>? SourceDev,
    IReadOnlyList<TargetLanguageInput> Targets)
{
    /// <summary>Code of the source language row in the report.</summary>
    public string SourceLanguage { get; init; } = "en";

    /// <summary>
    /// Inputs from the synthetic testbed: English training pairs (seed <see cref="SyntheticTestbed.DatasetTrainSeed"/>),
    /// aligned dev pairs in English and each target (seed <see cref="SyntheticTestbed.DatasetDevSeed"/>) and a
    /// target corpus (seed <see cref="SyntheticTestbed.DatasetCorpusSeed"/>), the same seeds as <see cref="SyntheticTestbed.WriteDataset"/>.
    /// </summary>
    public static CrossLingualInputs FromSyntheticTestbed(SyntheticTestbed testbed, IEnumerable<string> targetCodes, SyntheticInputOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(testbed);
        ArgumentNullException.ThrowIfNull(targetCodes);
        var o = options ?? new SyntheticInputOptions();
        o.Validate();
        var labels = NliLabels.All;
        LabelledPairs Pairs(string code, int n, int seed) =>
            LabelledPairs.FromStrings(code, testbed.NliExamples(code, n, seed).Select(e => ((string?)e.Premise, (string?)e.Hypothesis, (string?)e.Label)), labels);
        var targets = targetCodes.Select(code =>
        {
            testbed.Language(code); // fails early, listing the known codes
            return new TargetLanguageInput(code, () => testbed.UnlabelledCorpus(code, o.CorpusSentences, SyntheticTestbed.DatasetCorpusSeed),
                Pairs(code, o.DevExamples, SyntheticTestbed.DatasetDevSeed).Examples);
        }).ToList();
        return new CrossLingualInputs(labels, Pairs("en", o.TrainExamples, SyntheticTestbed.DatasetTrainSeed).Examples,
            o.DevExamples > 0 ? Pairs("en", o.DevExamples, SyntheticTestbed.DatasetDevSeed).Examples : null, targets);
    }

    /// <summary>
    /// Inputs from a folder with the shared/data layout: <c>glue_pools/MNLI/train.tsv</c> (English
    /// training pairs), <c>xnli/dev/dev.en.tsv</c> (English dev, optional), and per target
    /// <c>raw/{code}/*.txt</c> (corpus: non-blank lines of every file, files in ordinal order) and
    /// <c>xnli/dev/dev.{code}.tsv</c>. Labels: <see cref="XnliTsv.NliLabelNames"/>.
    /// </summary>
    /// <exception cref="FileNotFoundException">A required file or folder is missing (the message names it).</exception>
    public static CrossLingualInputs FromDataFolder(string root, IEnumerable<string> targetCodes, DataFolderInputOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        ArgumentNullException.ThrowIfNull(targetCodes);
        var o = options ?? new DataFolderInputOptions();
        o.Validate();
        var labels = XnliTsv.NliLabelNames;
        var train = XnliTsv.Load(Path.Combine(root, "glue_pools", "MNLI", "train.tsv"), labels, o.MaxTrainExamples).Examples;
        string enDev = Path.Combine(root, "xnli", "dev", "dev.en.tsv");
        var sourceDev = File.Exists(enDev) ? XnliTsv.Load(enDev, labels, o.MaxDevExamples).Examples : null;
        var targets = new List<TargetLanguageInput>();
        foreach (string code in targetCodes)
        {
            string rawDir = Path.Combine(root, "raw", code);
            if (!Directory.Exists(rawDir)) throw new FileNotFoundException($"No corpus folder for '{code}': {rawDir} does not exist.", rawDir);
            var files = Directory.GetFiles(rawDir, "*.txt").Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new FileNotFoundException($"No *.txt corpus files in {rawDir}.", rawDir);
            var dev = XnliTsv.Load(Path.Combine(root, "xnli", "dev", $"dev.{code}.tsv"), labels, o.MaxDevExamples).Examples;
            targets.Add(new TargetLanguageInput(code, () => ReadLines(files, o.MaxCorpusLines), dev));
        }
        return new CrossLingualInputs(labels, train, sourceDev, targets);
    }

    private static IEnumerable<string?> ReadLines(string[] files, int? maxLines)
    {
        int n = 0;
        foreach (string file in files)
            foreach (string line in File.ReadLines(file))
            {
                if (string.IsNullOrWhiteSpace(line)) continue;
                if (maxLines is { } max && n >= max) yield break;
                n++;
                yield return line;
            }
    }
}

/// <summary>Sizes for <see cref="CrossLingualInputs.FromSyntheticTestbed"/>.</summary>
public sealed record SyntheticInputOptions
{
    public int TrainExamples { get; init; } = 5000;
    /// <summary>Dev pairs per language (English included); 0 skips the English dev row.</summary>
    public int DevExamples { get; init; } = 1000;
    public int CorpusSentences { get; init; } = 20_000;

    public void Validate()
    {
        if (TrainExamples <= 0) throw new ArgumentOutOfRangeException(nameof(TrainExamples), TrainExamples, "TrainExamples must be positive.");
        if (DevExamples <= 0) throw new ArgumentOutOfRangeException(nameof(DevExamples), DevExamples, "DevExamples must be positive (the targets need dev pairs).");
        if (CorpusSentences <= 0) throw new ArgumentOutOfRangeException(nameof(CorpusSentences), CorpusSentences, "CorpusSentences must be positive.");
    }
}

/// <summary>Caps for <see cref="CrossLingualInputs.FromDataFolder"/>; null means no cap.</summary>
public sealed record DataFolderInputOptions
{
    /// <summary>Non-blank corpus lines per target language.</summary>
    public int? MaxCorpusLines { get; init; }
    /// <summary>English training pairs (first rows of MNLI/train.tsv).</summary>
    public int? MaxTrainExamples { get; init; }
    /// <summary>Dev pairs per language (first rows; XNLI rows are aligned, so every language gets the same examples).</summary>
    public int? MaxDevExamples { get; init; }

    public void Validate()
    {
        if (MaxCorpusLines is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxCorpusLines), MaxCorpusLines, "MaxCorpusLines must be positive or null.");
        if (MaxTrainExamples is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxTrainExamples), MaxTrainExamples, "MaxTrainExamples must be positive or null.");
        if (MaxDevExamples is <= 0) throw new ArgumentOutOfRangeException(nameof(MaxDevExamples), MaxDevExamples, "MaxDevExamples must be positive or null.");
    }
}
