using System.CommandLine;
using Microsoft.ML;
using MLNetForgetting.Cli.Infrastructure;
using MLNetForgetting.MLNet.FewShot;
using MLNetForgetting.MLNet.Pretraining;
using MLNetForgetting.Modeling.Adapters;
using MLNetForgetting.Prompts;
using MLNetForgetting.SelfTraining;

namespace MLNetForgetting.Cli.Commands;

/// <summary><c>mlnf list</c>: LiST few-shot learning (prompt + adapters on a frozen backbone, self-training on unlabelled text), or its adapter prompt-tuning baseline.</summary>
public static class ListCommand
{
    private static readonly string[] Methods = { "LiST", "prompt-adapters" };

    /// <summary>One few-shot run (for <c>list</c> and the demo).</summary>
    /// <param name="Title">Label of the progress display.</param>
    /// <param name="Labelled">The K-shot labelled rows.</param>
    /// <param name="Unlabelled">Unlabelled rows for self-training (may be empty).</param>
    /// <param name="LabelNames">Label key order.</param>
    /// <param name="Options">Library options; columns, data, Progress and CancellationToken are set by <see cref="Execute"/>.</param>
    /// <param name="ModelPath">Where the zip goes.</param>
    /// <param name="StopAfterSteps">Hidden test hook: cancel after this many updates.</param>
    /// <param name="DeleteCheckpointOnSuccess">Remove the checkpoint folder (a scratch folder beside the output) after the zip is written.</param>
    internal sealed record Job(string Title, IReadOnlyList<FewShotExample> Labelled, IReadOnlyList<FewShotExample> Unlabelled, IReadOnlyList<string> LabelNames,
        PromptAdapterSelfTrainer.Options Options, string ModelPath, long StopAfterSteps = 0, bool DeleteCheckpointOnSuccess = false);

    /// <summary>Builds the command.</summary>
    public static Command Create(CliHost host)
    {
        var model = CliOptions.Input("--model", "The backbone language model zip (pretrained, relearned or imported); it stays frozen", aliases: "-m");
        var train = CliOptions.Input("--input", "Labelled few-shot rows: a TSV with a header, text (or sentence) and label columns; text_a, text_b, label for pair tasks", aliases: "-i");
        var unlabelled = CliOptions.Input("--unlabelled", "Unlabelled rows for self-training: a .txt file or folder of *.txt (one sentence per line) or a TSV with a header (text or sentence; text_a and text_b for pair tasks, which need a TSV)", required: false, aliases: "-u");
        var output = CliOptions.Output("--output", "The few-shot classifier zip to write", aliases: "-o");
        var adapters = CliOptions.Output("--adapters", "Also write the adapter pack (adapters + prompt head, a few MB) to this file", required: false);
        var task = new Option<string>("--task") { Description = $"Built-in task whose template and label words to use: {string.Join(", ", LiSTTasks.All.Select(t => t.Name))}", DefaultValueFactory = _ => "SST-2", HelpName = "name" }
            .OneOf(LiSTTasks.All.Select(t => t.Name).ToArray());
        var template = new Option<string?>("--template") { Description = "A template of your own in LM-BFF syntax (docs/prompts.md), e.g. '*cls**sent_0*_It_was*mask*.*sep+*'; needs --label-words", HelpName = "template" };
        var labelWords = new Option<string?>("--label-words") { Description = "Label → word for --template, comma-separated: '0=terrible,1=great' (each word one token of the backbone's vocabulary)", HelpName = "label=word,..." };
        var method = new Option<string>("--method") { Description = "LiST (teacher + self-training with meta re-weighting) or the prompt-adapters baseline (labelled rows only)", DefaultValueFactory = _ => "LiST" }.OneOf(Methods);
        var teacherEpochs = CliOptions.Number("--teacher-epochs", "Epochs of prompt tuning the teacher on the labelled rows", 50).AtLeast(1);
        var rounds = CliOptions.Number("--rounds", "Self-training rounds", 6).AtLeast(1);
        var phaseA = CliOptions.Number("--student-updates", "Student updates on pseudo-labelled rows per round", 1000L).AtLeast(1);
        var phaseB = CliOptions.Number("--student-epochs", "Epochs of the student on the labelled rows per round", 50).AtLeast(1);
        var bottleneck = CliOptions.Number("--bottleneck", "Adapter bottleneck size", 128).AtLeast(1);
        var teacherLr = CliOptions.Number("--teacher-lr", "Learning rate of the teacher (the paper: 5e-6)", 5e-6, "rate").AtLeast(0);
        var studentLr = CliOptions.Number("--student-lr", "Learning rate of the student (the paper: 1e-4)", 1e-4, "rate").AtLeast(0);
        var maxUnlabelled = CliOptions.Number("--max-unlabelled", "Read at most this many unlabelled rows", 100_000).AtLeast(1);
        var seed = CliOptions.Seed();
        var device = CliOptions.Device();
        var checkpoints = new CheckpointOptions();

        var command = new Command("list", "Few-shot classification with LiST: prompt-based tuning of small adapters on a frozen backbone, then teacher–student self-training on unlabelled text. Ctrl+C writes a checkpoint; --resume continues from it.")
        {
            model, train, unlabelled, output, adapters, task, template, labelWords, method, teacherEpochs, rounds, phaseA, phaseB, bottleneck,
            teacherLr, studentLr, maxUnlabelled, seed, device,
        };
        foreach (var o in checkpoints.All) command.Options.Add(o);
        command.WithExamples(
            "mlnf list --model en-forget.zip --task SST-2 --input ../shared/data/list/SST-2/30-1/train.tsv --unlabelled ../shared/data/glue_pools/SST-2/train.tsv --output sst2.zip",
            "mlnf list --model lm.zip --input reviews.tsv --unlabelled reviews.txt --template '*cls**sent_0*_It_was*mask*.*sep+*' --label-words 'neg=bad,pos=good' --output reviews.zip",
            "mlnf list --model lm.zip --task MNLI --input mnli-30.tsv --method prompt-adapters --output mnli.zip --adapters mnli.adapters");

        return host.SetAction(command, (parse, context) =>
        {
            int runSeed = parse.GetValue(seed);
            var ml = context.CreateMLContext(runSeed);
            string? customTemplate = parse.GetValue(template);
            if ((customTemplate is null) != (parse.GetValue(labelWords) is null)) throw new CliUsageException("--template and --label-words go together");
            IReadOnlyDictionary<string, string>? words = parse.GetValue(labelWords) is { } w ? ParseLabelWords(w) : null;
            PromptTask? builtIn = customTemplate is null ? LiSTTasks.Get(parse.GetValue(task)!) : null;
            int sentences = builtIn?.SentenceCount ?? ParseTemplate(customTemplate!).SentenceCount;

            var labelled = PairData.LoadFewShot(parse.GetValue(train), "--input", sentences, labelled: true);
            var pool = parse.GetValue(unlabelled) is { } u ? LoadUnlabelled(u, sentences, parse.GetValue(maxUnlabelled)) : new List<FewShotExample>();
            string outputPath = PathChecks.OutputFile(parse.GetValue(output), "--output");
            string? adapterPath = parse.GetValue(adapters) is { } a ? PathChecks.OutputFile(a, "--adapters") : null;
            var backbone = ModelFiles.Load<LanguageModelTransformer>(ml, parse.GetValue(model), "--model");
            var (checkpointPath, scratch) = checkpoints.Resolve(parse, outputPath);

            var labelNames = labelled.Select(r => r.Label!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            var fewShotMethod = CliOptions.Canonical(parse.GetValue(method)!, Methods) == "LiST" ? FewShotMethod.LiST : FewShotMethod.PromptTuningAdapters;
            var options = new PromptAdapterSelfTrainer.Options
            {
                LanguageModel = backbone, Task = builtIn?.Name ?? "SST-2", Template = customTemplate, LabelWords = words, Method = fewShotMethod,
                Seed = runSeed, Device = CliOptions.DeviceValue(parse, device), MaxUnlabelledRows = parse.GetValue(maxUnlabelled),
                Settings = new SelfTrainingSettings
                {
                    Adapters = new AdapterOptions { BottleneckSize = parse.GetValue(bottleneck) },
                    TeacherEpochs = parse.GetValue(teacherEpochs), Rounds = parse.GetValue(rounds), PhaseAUpdates = parse.GetValue(phaseA), PhaseBEpochs = parse.GetValue(phaseB),
                    TeacherLearningRate = parse.GetValue(teacherLr), StudentLearningRate = parse.GetValue(studentLr),
                    CheckpointDirectory = checkpointPath, CheckpointInterval = parse.GetValue(checkpoints.Every), Resume = parse.GetValue(checkpoints.Resume),
                },
            };
            context.WriteLine($"{fewShotMethod} on {labelled.Count} labelled rows ({string.Join(", ", labelNames)}) and {pool.Count:N0} unlabelled rows, task {builtIn?.Name ?? "custom template"}, seed {runSeed}");
            var classifier = Execute(context, ml, new Job("list", labelled, pool, labelNames, options, outputPath, parse.GetValue(checkpoints.StopAfter), scratch));
            if (adapterPath is not null) classifier.ExportAdapterPack(adapterPath);
            context.WriteLine($"Model: {outputPath}{(adapterPath is null ? "" : $"; adapter pack: {adapterPath}")}");
            context.WriteLine(classifier.ParameterReport.ToString());
            return ExitCodes.Success;
        });
    }

    /// <summary>Fits (resuming from the checkpoints when asked) and saves the zip atomically.</summary>
    internal static PromptAdapterTransformer Execute(CliContext context, MLContext ml, Job job)
    {
        using var run = new TrainingRun(context, job.StopAfterSteps);
        var options = job.Options;
        int sentences = job.Labelled[0].Texts.Count;
        options.Sentence1ColumnName = PairData.Sentence1;
        options.Sentence2ColumnName = sentences > 1 ? PairData.Sentence2 : null;
        options.LabelColumnName = PairData.Label;
        options.ScoreColumnName = PairData.Score;
        options.UnlabelledData = job.Unlabelled.Count == 0 ? null : PairData.ToDataView(ml, job.Unlabelled, job.LabelNames);
        options.Progress = run.Progress;
        options.CancellationToken = run.CancellationToken;
        var data = PairData.ToDataView(ml, job.Labelled, job.LabelNames);
        var estimator = ml.MulticlassClassification.Trainers.PromptAdapterSelfTrainer(options); // checks the template and that label words are single tokens
        var settings = options.Settings;
        var model = run.Execute(job.Title, settings.CheckpointDirectory, settings.Resume, () => estimator.Fit(data));
        PretrainRun.SaveModel(ml, model, data.Schema, job.ModelPath);
        if (job.DeleteCheckpointOnSuccess && settings.CheckpointDirectory is { } scratch) PromptSelfTrainer.DeleteCheckpoints(scratch);
        return model;
    }

    private static PromptTemplate ParseTemplate(string template)
    {
        try
        {
            return PromptTemplate.Parse(template, 128);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new CliUsageException($"--template '{template}': {ErrorReporter.OneLine(e.Message).TrimEnd('.')}", e);
        }
    }

    private static Dictionary<string, string> ParseLabelWords(string value)
    {
        var words = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == pair.Length - 1) throw new CliUsageException($"--label-words: '{pair}' is not label=word");
            if (!words.TryAdd(pair[..eq].Trim(), pair[(eq + 1)..].Trim())) throw new CliUsageException($"--label-words names label '{pair[..eq]}' twice");
        }
        if (words.Count < 2) throw new CliUsageException($"--label-words needs at least two label=word pairs, got '{value}'");
        return words;
    }

    private static List<FewShotExample> LoadUnlabelled(string path, int sentences, int max)
    {
        if (path.EndsWith(".tsv", StringComparison.OrdinalIgnoreCase))
        {
            // Unlabelled TSVs need no label column; the text columns are named as in few-shot files.
            string file = PathChecks.InputFile(path, "--unlabelled");
            string header = File.ReadLines(file).FirstOrDefault() ?? "";
            string[] columns = sentences > 1 ? ["text_a", "text_b"] : [header.Split('\t').Contains("sentence") ? "sentence" : "text"];
            var layout = TsvLayout.Read(file, columns);
            int[] at = columns.Select(layout.IndexOf).ToArray();
            return File.ReadLines(file).Skip(1).Where(l => !string.IsNullOrWhiteSpace(l)).Take(max)
                .Select(l => l.Split('\t')).Where(f => f.Length > at.Max())
                .Select(f => new FewShotExample(at.Select(i => f[i]).ToArray(), null)).ToList();
        }
        if (sentences > 1) throw new CliUsageException($"--unlabelled '{path}': a pair task needs a TSV with text_a and text_b columns");
        return PathChecks.InputFileOrFolder(path, "--unlabelled", "*.txt").SelectMany(File.ReadLines)
            .Where(l => !string.IsNullOrWhiteSpace(l)).Take(max).Select(l => new FewShotExample([l], null)).ToList();
    }
}
