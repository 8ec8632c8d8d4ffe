using System.Text;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.CrossLingual;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Synthetic;
using MLNetForgetting.Tests.CrossLingual;
using MLNetForgetting.Tests.FewShot;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Text;

namespace MLNetForgetting.Tests.Reliability;

/// <summary>The kinds of dirty text users feed in, by name.</summary>
internal static class DirtyText
{
    /// <summary>About 1 MB of UTF-16 text (2^20 chars) of ordinary words.</summary>
    public static readonly string OneMegabyte = BuildLong();

    public static readonly (string Name, string? Text)[] Cases =
    [
        ("null", null),
        ("empty", ""),
        ("whitespace-only", " \t\n \u00a0 "),
        ("1 MB", OneMegabyte),
        ("control characters", "tab\there nul\u0000 bell\u0007 escape\u001b[31m delete\u007f next-line\u0085 end"),
        ("unpaired surrogates", "lone high \ud800 and lone low \udc00 and trailing \udbff"),
        ("mixed scripts", "English, Ελληνικά, русский, 中文, हिन्दी, ภาษาไทย, emoji 😀, combining e\u0301 a\u0308\u0323"),
        ("right-to-left", "العربية نص قصير \u200f עברית \u202bembedded\u202c mixed 123"),
    ];

    /// <summary>Cases that the pretrainer skips in training (no tokens to learn from).</summary>
    public static bool IsBlank(string? text) => string.IsNullOrWhiteSpace(text);

    private static string BuildLong()
    {
        string[] words = ["the", "river", "house", "music", "stood", "quietly", "above", "festival", "and", "a"];
        var sb = new StringBuilder(1 << 20);
        for (int i = 0; sb.Length < (1 << 20) - 16; i++) sb.Append(words[i * 7 % words.Length]).Append(' ');
        return sb.ToString();
    }
}

public sealed class WeightedTextRow
{
    public string? Text { get; set; }
    public float Weight { get; set; }
}

public sealed class WeightedPairRow
{
    public string? Sentence1 { get; set; }
    public string? Sentence2 { get; set; }
    public string Label { get; set; } = "";
    public float Weight { get; set; }
}

public sealed class WeightedSentenceRow
{
    public string? Sentence1 { get; set; }
    public string Label { get; set; } = "";
    public float Weight { get; set; }
}

/// <summary>
/// One tiny model of every kind, each trained on data with the dirty rows of <see cref="DirtyText"/>
/// mixed in, and saved as a zip (plus a LiST adapter pack): shared by the bad-row, corrupt-artefact and
/// concurrency tests so each model is trained once per run.
/// </summary>
internal static class DirtyModels
{
    public sealed record Set(
        MLContext Ml, string Folder, int PretrainRows, LanguageModelTransformer LanguageModel, LanguageModelTransformer Relearned,
        ITransformer Classifier, SentencePairClassifierTransformer Assembled, ITransformer List, IDataView ListTrain, IDataView PairTrain,
        IDataView TextTrain, IReadOnlyDictionary<string, string> Zips, string AdapterPack, long PairRowsSkipped, long ListRowsSkipped);

    // Built on its own thread: dispose scopes and grad mode are per thread (see ListFixture).
    private static readonly Lazy<Set> Shared = new(() => Task.Factory.StartNew(Build, TaskCreationOptions.LongRunning).GetAwaiter().GetResult());

    public static Set Value => Shared.Value;

    public static readonly string[] Kinds = ["language model", "relearned", "classifier", "assembled", "LiST"];

    private static Set Build()
    {
        var ml = new MLContext(3);
        string folder = Path.Combine(Path.GetTempPath(), "mlnf-dirty-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(folder, true); } catch (IOException) { } };

        // Pretraining: real English with every dirty case mixed in; the BPE vocabulary sees them too.
        var english = LanguageModelTests.EnglishLines.Value.Take(300).ToArray();
        var texts = english.Concat(DirtyText.Cases.Select(c => c.Text)).ToArray();
        var textTrain = ml.Data.LoadFromEnumerable(texts.Select(t => new WeightedTextRow { Text = t, Weight = float.NaN }).ToList());
        var tokenizer = BpeVocabularyTrainer.Train(texts.Take(english.Length + 1), new BpeTrainerOptions { VocabSize = 400, RequiredTokens = [" great", " terrible"] });
        var options = LanguageModelTests.TinyOptions(k: 5);
        options.Tokenizer = tokenizer; options.MaxSteps = 0; options.MaxEpochs = 1; options.Seed = 3;
        var lm = ml.Transforms.Text.ActiveForgettingPretrainer(options).Fit(textTrain);

        var relearned = ml.Transforms.Text.EmbeddingRelearner(new EmbeddingRelearner.Options
        {
            LanguageModel = lm, VocabularySize = 350, Seed = 4,
            Settings = new RelearningSettings { MaxSteps = 4, BatchSize = 16, LearningRate = 3e-3, LogInterval = 1000 },
        }).Fit(textTrain);

        // Sentence pairs: synthetic NLI with dirty text in either sentence.
        var testbed = new SyntheticTestbed();
        var pairs = testbed.NliExamples("en", 150, 2).Select(e => new WeightedPairRow { Sentence1 = e.Premise, Sentence2 = e.Hypothesis, Label = e.Label, Weight = float.NaN }).ToList();
        int i = 0;
        foreach (var (_, text) in DirtyText.Cases)
        {
            pairs.Add(new WeightedPairRow { Sentence1 = text, Sentence2 = pairs[i].Sentence2, Label = pairs[i].Label, Weight = float.NaN }); i++;
            pairs.Add(new WeightedPairRow { Sentence1 = pairs[i].Sentence1, Sentence2 = text, Label = pairs[i].Label, Weight = float.NaN }); i++;
        }
        var pairTrain = ml.Data.LoadFromEnumerable(pairs);
        var pairTrainer = ml.MulticlassClassification.Trainers.SentencePairClassification(new SentencePairClassificationTrainer.Options
        {
            LanguageModel = lm, Seed = 5, Settings = new TaskAdaptationSettings { MaxSteps = 6, BatchSize = 16, LearningRate = 1e-3 },
        });
        var classifier = ml.Transforms.Conversion.MapValueToKey("Label").Append(pairTrainer).Fit(pairTrain);
        var assembled = classifier.LastTransformer.Assemble(relearned, ml, "dirty");

        // LiST: SST-2 30-shot plus dirty labelled rows; dirty unlabelled rows too.
        string root = Path.Combine(TextTestData.DataRoot, "list", "SST-2");
        var sst2 = FewShotData.ReadTsv(Path.Combine(root, "30-1", "train.tsv")).Take(30)
            .Select(e => new WeightedSentenceRow { Sentence1 = e.Texts[0], Label = e.Label ?? "", Weight = float.NaN }).ToList();
        sst2.AddRange(DirtyText.Cases.Select((c, n) => new WeightedSentenceRow { Sentence1 = c.Text, Label = (n % 2).ToString(System.Globalization.CultureInfo.InvariantCulture), Weight = float.NaN }));
        var listTrain = ml.Data.LoadFromEnumerable(sst2);
        var unlabelled = FewShotData.ReadTsv(Path.Combine(TextTestData.DataRoot, "glue_pools", "SST-2", "train.tsv")).Take(40)
            .Select(e => new WeightedSentenceRow { Sentence1 = e.Texts[0], Weight = float.NaN })
            .Concat(DirtyText.Cases.Select(c => new WeightedSentenceRow { Sentence1 = c.Text, Weight = float.NaN })).ToList();
        var listTrainer = ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(new PromptAdapterSelfTrainer.Options
        {
            LanguageModel = lm, Task = "SST-2", UnlabelledData = ml.Data.LoadFromEnumerable(unlabelled), Seed = 3,
            Settings = new SelfTrainingSettings
            {
                Adapters = new MLNetForgetting.Modeling.Adapters.AdapterOptions { BottleneckSize = 8 },
                TeacherEpochs = 1, Rounds = 1, PhaseAUpdates = 2, PhaseBEpochs = 1, TeacherLearningRate = 1e-3, StudentLearningRate = 1e-3,
            },
        });
        var list = ml.Transforms.Conversion.MapValueToKey("Label").Append(listTrainer).Fit(listTrain);

        var zips = new Dictionary<string, string>
        {
            ["language model"] = Save(ml, lm, textTrain.Schema, folder, "lm.zip"),
            ["relearned"] = Save(ml, relearned, textTrain.Schema, folder, "relearned.zip"),
            ["classifier"] = Save(ml, classifier, pairTrain.Schema, folder, "classifier.zip"),
            ["assembled"] = Save(ml, assembled, pairTrain.Schema, folder, "assembled.zip"),
            ["LiST"] = Save(ml, list, listTrain.Schema, folder, "list.zip"),
        };
        string pack = Path.Combine(folder, "sst2.adapters");
        ((TransformerChain<PromptAdapterTransformer>)list).LastTransformer.ExportAdapterPack(pack);
        return new Set(ml, folder, texts.Count(t => !DirtyText.IsBlank(t)), lm, relearned, classifier, assembled, list, listTrain, pairTrain, textTrain, zips, pack,
            pairTrainer.SkippedRows, listTrainer.SkippedRows);
    }

    private static string Save(MLContext ml, ITransformer model, DataViewSchema schema, string folder, string name)
    {
        string path = Path.Combine(folder, name);
        ml.Model.SaveAtomic(model, schema, path);
        return path;
    }
}
