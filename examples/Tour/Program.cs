// The README's "Five-minute tour" as a program: `dotnet run -c Release --project examples/Tour` runs it on the
// built-in synthetic testbed; add `--data ../shared/data --language sw` for real text, `--tiny` for the
// seconds-long configuration CI runs. Everything between the two markers is copied verbatim into README.md.
// tour:begin
using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.Runtime;
using MLNetForgetting.MLNet;
using MLNetForgetting.MLNet.Classification;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Synthetic;

if (TourOptions.Parse(args) is not { } options) return;       // --help, or a bad option (TourOptions.cs: System.CommandLine)
bool tiny = options.Tiny;                                     // seconds instead of an hour: what CI runs
string output = Directory.CreateDirectory(options.Output).FullName;
// Data laid out as raw/{language}/*.txt, glue_pools/MNLI/train.tsv, xnli/dev/dev.{language}.tsv; without
// --data, the built-in synthetic testbed (English and derived languages such as "xa") is written there.
string data = options.Data ?? new SyntheticTestbed().WriteDataset(Path.Combine(output, "data"), tiny ? 600 : 20_000, tiny ? 200 : 5000, 90);
string language = options.Language;

var ml = new MLContext(seed: 1);                              // the seed makes runs reproducible
ml.Log += (_, e) =>                                           // our progress and warnings, not ML.NET's trace
{
    if (e.Source.StartsWith(LogSources.Prefix) && e.Kind >= ChannelMessageKind.Info) Console.WriteLine($"{e.Kind}: {e.RawMessage}");
};

// 1. Pretrain on English with active forgetting: reset the token embeddings every K updates
//    (ResetInterval = 0 is standard pretraining on identical code). Or start from a pretrained model: a Hugging
//    Face BERT, RoBERTa or XLM-R folder (all-MiniLM-L6-v2: `mlnf import --backbone minilm --hf-output hf/minilm`).
IDataView english = Lines(Path.Combine(data, "raw", "en"));
LanguageModelTransformer lm = options.Pretrained is { } pretrained
    ? LanguageModelTransformer.FromHuggingFace(ml, pretrained)
    : ml.Transforms.Text.ActiveForgettingPretrainer(new ActiveForgettingPretrainer.Options
{
    ModelPreset = tiny ? "Tiny" : "Small", ResetInterval = tiny ? 5 : 1000, MaxSteps = tiny ? 20 : 20_000,
    VocabularySize = tiny ? 400 : 8000, LearningRate = tiny ? 3e-3 : 7e-4, EmbeddingLearningRate = tiny ? 3e-3 : 7e-4,
    CheckpointDirectory = Path.Combine(output, "ckpt"), CheckpointInterval = 500, Resume = true,  // kill it, run again: it continues
}).Fit(english);
ml.Model.Save(lm, english.Schema, Path.Combine(output, "lm.zip"));  // adds a "Features" column; the weights travel in the zip

// 2. Relearn token embeddings for the new language (new vocabulary, body frozen).
IDataView target = Lines(Path.Combine(data, "raw", language));
LanguageModelTransformer lmTarget = ml.Transforms.Text.EmbeddingRelearner(lm,
    maxTokens: tiny ? null : 1_000_000, maxSteps: tiny ? 5 : null, vocabularySize: tiny ? 400 : 8000).Fit(target);

// 3. Task adaptation: body + classifier on English NLI, token embeddings frozen.
IDataView mnli = ml.Data.LoadFromTextFile<Pair>(Path.Combine(data, "glue_pools", "MNLI", "train.tsv"), hasHeader: true);
var labels = ml.Transforms.Conversion.MapValueToKey("Label").Fit(mnli);
SentencePairClassifierTransformer nli = ml.MulticlassClassification.Trainers
    .SentencePairClassification(lm, maxEpochs: tiny ? 1 : 3).Fit(labels.Transform(mnli));

// 4. Assemble: the new language's embeddings + the English-trained body and classifier → zero-shot NLI.
SentencePairClassifierTransformer nliTarget = nli.Assemble(lmTarget, ml, language);  // refuses embeddings of another body
IDataView dev = labels.Transform(ml.Data.LoadFromTextFile<Pair>(Path.Combine(data, "xnli", "dev", $"dev.{language}.tsv"), hasHeader: true));
var metrics = ml.MulticlassClassification.Evaluate(nliTarget.Transform(dev));
Console.WriteLine($"zero-shot {language}: accuracy {metrics.MicroAccuracy:P1}");
ml.Model.Save(nliTarget, dev.Schema, Path.Combine(output, $"nli-{language}.zip"));

// LiST: few-shot prompt + adapter self-training on the frozen backbone (the label words " Yes", " Maybe"
// and " No" are single tokens because the pretrainer's vocabulary keeps every built-in task's label words).
var list = ml.Transforms.Conversion.MapValueToKey("Label")
    .Append(ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(lm, ml.Data.SkipRows(mnli, 100), task: "MNLI",
        sentence2ColumnName: "Sentence2", maxEpochs: tiny ? 1 : 10))
    .Fit(ml.Data.TakeRows(mnli, 32));                                       // 32 labelled pairs
list.LastTransformer.ExportAdapterPack(Path.Combine(output, "mnli.adapters"));  // a few MB; applies to the same backbone only

IDataView Lines(string folder) => ml.Data.LoadFromEnumerable(Directory.EnumerateFiles(folder, "*.txt")
    .Order(StringComparer.Ordinal).SelectMany(File.ReadLines).Select(l => new Line { Text = l }));

sealed class Line { public string Text { get; set; } = ""; }

sealed class Pair
{
    [LoadColumn(0)] public string Sentence1 { get; set; } = "";
    [LoadColumn(1)] public string Sentence2 { get; set; } = "";
    [LoadColumn(2)] public string Label { get; set; } = "";
}
// tour:end
