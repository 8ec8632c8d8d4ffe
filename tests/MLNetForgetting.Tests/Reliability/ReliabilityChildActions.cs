using System.Text.Json;
using Microsoft.ML;
using Microsoft.ML.Data;
using MLNetForgetting.Adaptation;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Persistence;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Persistence;
using MLNetForgetting.SelfTraining;
using MLNetForgetting.Tests.Adaptation;
using MLNetForgetting.Tests.FewShot;
using MLNetForgetting.Tests.Infrastructure;
using MLNetForgetting.Tests.Pretraining;
using MLNetForgetting.Tests.Text;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using static TorchSharp.torch;

namespace MLNetForgetting.Tests.Reliability;

/// <summary>
/// Child-process sides of the SIGKILL tests. Each prints "step N" after every update (flushed, so the
/// parent can kill at a chosen point) and "done" after writing its output atomically.
/// </summary>
public static class ReliabilityChildActions
{
    internal const long PretrainSteps = 24, RelearnSteps = 24;
    /// <summary>LiST child: teacher 2 epochs x 8 batches, then 2 rounds of 4 phase-A updates and 8 phase-B updates.</summary>
    internal const long ListSteps = 16 + 2 * (4 + 8);

    private static IProgress<TrainingProgress> PrintSteps(string prefix = "step") =>
        new MLNetForgetting.Tests.Training.SyncProgress<TrainingProgress>(p => { Console.Out.WriteLine($"{prefix} {p.Step}"); Console.Out.Flush(); });

    internal static ActiveForgettingPretrainer.Options PretrainOptions(string? checkpointDir)
    {
        var o = LanguageModelTests.TinyOptions(k: 8);
        o.MaxSteps = PretrainSteps; o.Seed = 5; o.CheckpointDirectory = checkpointDir; o.CheckpointInterval = 1; o.Resume = checkpointDir is not null;
        return o;
    }

    internal static void WriteTensors(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors) =>
        AtomicFile.Write(path, s => SafeTensors.Write(s, tensors.Select(kv => new KeyValuePair<string, Tensor>(kv.Key, kv.Value.detach().cpu()))));

    /// <summary>Args: checkpoint dir, output weights (.safetensors). Pretrains (Tiny, K = 8) with a checkpoint after every update, resuming if one exists.</summary>
    [ChildAction("rel-pretrain")]
    public static int Pretrain(string[] args)
    {
        var o = PretrainOptions(args[0]);
        o.Progress = PrintSteps();
        var ml = new MLContext(5);
        var model = ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(ml.Data.LoadFromEnumerable(LanguageModelTests.EnglishLines.Value.Select(l => new TextRow { Text = l })));
        WriteTensors(args[1], model.Model.NamedTensors());
        Console.Out.WriteLine("done");
        return 0;
    }

    internal static RelearningSettings RelearnSettings(string? dir) => new()
    {
        MaxSteps = RelearnSteps, BatchSize = 16, MaxSequenceLength = 48, LearningRate = 3e-3, Seed = 4, LogInterval = 1000, BucketPoolBatches = 8,
        CheckpointDirectory = dir, CheckpointInterval = 1, Resume = dir is not null,
    };

    /// <summary>Args: checkpoint dir, output weights. Relearns E of a fresh Tiny model on the synthetic target language, checkpointing every update.</summary>
    [ChildAction("rel-relearn")]
    public static int Relearn(string[] args)
    {
        using var model = AdaptationTestData.NewModel();
        EmbeddingRelearning.Relearn(model, AdaptationTestData.TargetTokenizer, () => AdaptationTestData.TargetCorpus, RelearnSettings(args[0]), CPU, null, null, PrintSteps());
        WriteTensors(args[1], model.NamedTensors());
        Console.Out.WriteLine("done");
        return 0;
    }

    internal static string[] ListProbeTexts() =>
        FewShotData.ReadTsv(Path.Combine(TextTestData.DataRoot, "list", "SST-2", "test_clue.tsv")).Take(12).Select(e => e.Texts[0]).ToArray();

    /// <summary>Args: output zip, output scores JSON. Tiny backbone + one LiST round on SST-2 30-1; saves the zip atomically.</summary>
    [ChildAction("rel-list")]
    public static int List(string[] args)
    {
        var ml = new MLContext(1);
        var model = FitList(ml, PrintSteps("list-step"), new SelfTrainingSettings
        {
            Adapters = new MLNetForgetting.Modeling.Adapters.AdapterOptions { BottleneckSize = 8 },
            TeacherEpochs = 2, Rounds = 1, PhaseAUpdates = 4, PhaseBEpochs = 1, TeacherLearningRate = 1e-3, StudentLearningRate = 1e-3,
        }, out var schema);
        var probe = ml.Data.LoadFromEnumerable(ListProbeTexts().Select(t => new SentenceRow { Sentence1 = t, Label = "0" }));
        var scores = ml.Data.CreateEnumerable<ClassifiedRow>(model.Transform(probe), reuseRowObject: false).Select(r => r.Score).ToArray();
        ml.Model.SaveAtomic(model, schema, args[0]);
        AtomicFile.WriteAllText(args[1], JsonSerializer.Serialize(scores));
        Console.Out.WriteLine("done");
        return 0;
    }

    /// <summary>Args: checkpoint dir, output weights. Tiny backbone + LiST (2 rounds) on SST-2 30-1, checkpointing every update, resuming if it can; writes the adapters and head.</summary>
    [ChildAction("rel-list-resume")]
    public static int ListResume(string[] args)
    {
        var ml = new MLContext(1);
        var model = FitList(ml, PrintSteps(), new SelfTrainingSettings
        {
            Adapters = new MLNetForgetting.Modeling.Adapters.AdapterOptions { BottleneckSize = 8 },
            TeacherEpochs = 2, Rounds = 2, PhaseAUpdates = 4, KdWarmupFraction = 0.5, PhaseBEpochs = 1, TeacherLearningRate = 1e-3, StudentLearningRate = 1e-3,
            CheckpointDirectory = args[0], CheckpointInterval = 1, Resume = true, LogInterval = 1000,
        }, out _);
        WriteTensors(args[1], model.LastTransformer.Classifier.named_parameters().Select(p => new KeyValuePair<string, Tensor>(p.name, p.parameter)));
        Console.Out.WriteLine("done");
        return 0;
    }

    private static TransformerChain<PromptAdapterTransformer> FitList(MLContext ml, IProgress<TrainingProgress> progress, SelfTrainingSettings settings, out DataViewSchema schema)
    {
        var lines = TextTestData.RawLines("en").Where(l => l.Length is > 20 and < 300).Take(300).ToArray();
        var tokenizer = BpeVocabularyTrainer.Train(lines, new BpeTrainerOptions { VocabSize = 400, RequiredTokens = [" great", " terrible"] });
        var po = LanguageModelTests.TinyOptions(k: 0);
        po.Tokenizer = tokenizer; po.MaxSteps = 10; po.Seed = 1;
        var backbone = ml.Transforms.Text.ActiveForgettingPretrainer(po).Fit(ml.Data.LoadFromEnumerable(lines.Select(l => new TextRow { Text = l })));
        string root = Path.Combine(TextTestData.DataRoot, "list", "SST-2");
        IDataView Sst2(string file, int take) => ml.Data.LoadFromEnumerable(FewShotData.ReadTsv(file).Take(take).Select(e => new SentenceRow { Sentence1 = e.Texts[0], Label = e.Label ?? "" }));
        var train = Sst2(Path.Combine(root, "30-1", "train.tsv"), 30);
        var options = new PromptAdapterSelfTrainer.Options
        {
            LanguageModel = backbone, Task = "SST-2", UnlabelledData = Sst2(Path.Combine(TextTestData.DataRoot, "glue_pools", "SST-2", "train.tsv"), 80), Seed = 3,
            Progress = progress, Settings = settings,
        };
        schema = train.Schema;
        return ml.Transforms.Conversion.MapValueToKey("Label").Append(ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(options)).Fit(train);
    }

    /// <summary>Args: zip path. Fits a 2-update Tiny language model, then saves it to the same path over and over (atomically), printing "saved N".</summary>
    [ChildAction("rel-save-loop")]
    public static int SaveLoop(string[] args)
    {
        var o = LanguageModelTests.TinyOptions(k: 0);
        o.MaxSteps = 2; o.Seed = 2;
        var ml = new MLContext(2);
        var data = ml.Data.LoadFromEnumerable(LanguageModelTests.EnglishLines.Value.Take(200).Select(l => new TextRow { Text = l }));
        var model = ml.Transforms.Text.ActiveForgettingPretrainer(o).Fit(data);
        for (int i = 1; i <= 10_000; i++)
        {
            ml.Model.SaveAtomic(model, data.Schema, args[0]);
            Console.Out.WriteLine($"saved {i}");
            Console.Out.Flush();
        }
        Console.Out.WriteLine("done");
        return 0;
    }
}
