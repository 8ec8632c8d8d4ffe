using MLNetForgetting.Modeling;
using MLNetForgetting.Prompts;
using MLNetForgetting.Text;
using MLNetForgetting.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace MLNetForgetting.SelfTraining;

/// <summary>
/// LiST (docs/methods.md §3): prompt tuning of adapters + label-word head on a frozen backbone, then M
/// rounds of teacher–student self-training with meta re-weighting; plus the baselines of §3.5 in the
/// same API. Every phase runs through <see cref="TrainingLoop{TBatch}"/> (per-step dispose scope,
/// NaN detection, clipping, progress).
/// </summary>
internal static class PromptSelfTrainer
{
    /// <summary>Loop phase names (progress, logs).</summary>
    public const string TeacherPhase = "list teacher init", PhaseA = "list phase A", PhaseB = "list phase B";

    /// <summary>
    /// Runs LiST. The backbone's own weights are frozen and never change (its adapter slots are used).
    /// An empty <paramref name="unlabelled"/> set skips self-training with a logged warning and returns
    /// the prompt-tuned teacher (<see cref="SelfTrainingResult.SelfTrainingSkipped"/>).
    /// </summary>
    /// <exception cref="ArgumentException">Fewer labelled examples than classes, a label missing from the verbalizer, a wrong number of texts.</exception>
    /// <exception cref="LabelWordException">A label word is not a single token.</exception>
    public static SelfTrainingResult TrainLiST(
        RobertaForMaskedLM backbone,
        SubwordTokenizer tokenizer,
        PromptTask task,
        IReadOnlyList<FewShotExample> labelled,
        IReadOnlyList<FewShotExample> unlabelled,
        SelfTrainingSettings settings,
        Device device,
        Action<string>? log = null,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(unlabelled);
        var (labelledExamples, maxLength) = Prepare(backbone, tokenizer, task, labelled, settings);
        if (unlabelled.Any(e => e.Label is not null))
            log?.Invoke("list: the unlabelled set carries labels; they are ignored (teacher pseudo-labels are used).");
        var pool = PromptEncoder.Encode(unlabelled.Select(e => e with { Label = null }), task, tokenizer, maxLength);

        var checkpoints = SelfTrainingCheckpoints.For(settings, () => ResumeConfiguration(settings, backbone, tokenizer, task, labelled, unlabelled));
        var teacher = PromptClassifier.Create(backbone, tokenizer, task, settings.Adapters, Seeded(settings.Seed, 0));
        teacher.BackboneDropout = settings.BackboneDropout;
        TrainingHistory teacherHistory;
        var rounds = new List<SelfTrainingRound>();
        int firstRound = 1;
        if (checkpoints?.TryResume(teacher, log) is { } stage)
        {
            // Killed after a round boundary: the stage holds the next round's teacher and the histories so far.
            (teacherHistory, rounds, firstRound) = (stage.TeacherInit, stage.Rounds, stage.CompletedRounds + 1);
        }
        else
        {
            teacherHistory = TrainSupervised(teacher, teacher.FreezeBackbone(), labelledExamples, settings.TeacherEpochs, settings.TeacherLearningRate,
                TeacherPhase, settings.Seed, settings, log, progress, cancellationToken, checkpoints, SelfTrainingCheckpoints.TeacherFolder);
            checkpoints?.Save(teacher, new SelfTrainingCheckpoints.Stage(0, teacherHistory, rounds));
        }
        log?.Invoke($"list: teacher initialised; {teacher.ParameterReport()}");

        if (pool.Count == 0 || settings.Rounds == 0)
        {
            if (pool.Count == 0) log?.Invoke("list: WARNING the unlabelled set is empty; self-training is skipped and the prompt-tuned teacher is returned.");
            teacher.Activate();
            return new SelfTrainingResult(teacher, teacherHistory, [], pool.Count == 0);
        }

        for (int round = firstRound; round <= settings.Rounds; round++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // Student = backbone with its pretrained head and fresh adapters (docs/methods.md §3.3).
            var student = PromptClassifier.Create(backbone, tokenizer, task, settings.Adapters, Seeded(settings.Seed, round));
            student.BackboneDropout = settings.BackboneDropout;
            var record = RunRound(round, teacher, student, labelledExamples, pool, settings, device, log, progress, cancellationToken, checkpoints);
            rounds.Add(record);
            teacher.Dispose();
            teacher = student;
            checkpoints?.Save(teacher, new SelfTrainingCheckpoints.Stage(round, teacherHistory, rounds));
        }
        teacher.Activate();
        return new SelfTrainingResult(teacher, teacherHistory, rounds, false);
    }

    /// <summary>
    /// Baseline "adapters without self-training": prompt tuning of adapters + head on the labelled set
    /// (LiST's teacher initialisation, with <see cref="SelfTrainingSettings.TeacherLearningRate"/> and
    /// <see cref="SelfTrainingSettings.TeacherEpochs"/>). The backbone stays frozen.
    /// </summary>
    public static (PromptClassifier Model, TrainingHistory History) PromptTuneAdapters(
        RobertaForMaskedLM backbone, SubwordTokenizer tokenizer, PromptTask task, IReadOnlyList<FewShotExample> labelled,
        SelfTrainingSettings settings, Device device, Action<string>? log = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (examples, _) = Prepare(backbone, tokenizer, task, labelled, settings);
        var model = PromptClassifier.Create(backbone, tokenizer, task, settings.Adapters, Seeded(settings.Seed, 0));
        model.BackboneDropout = settings.BackboneDropout;
        var history = TrainSupervised(model, model.FreezeBackbone(), examples, settings.TeacherEpochs, settings.TeacherLearningRate,
            "prompt tuning (adapters)", settings.Seed, settings, log, progress, cancellationToken,
            SelfTrainingCheckpoints.For(settings, () => ResumeConfiguration(settings, backbone, tokenizer, task, labelled, [])), SelfTrainingCheckpoints.TeacherFolder);
        model.Activate();
        return (model, history);
    }

    /// <summary>
    /// Baseline "prompt fine-tuning": every backbone parameter and the label-word head train with
    /// cross-entropy at &lt;mask&gt; (rate <see cref="SelfTrainingSettings.FineTuningLearningRate"/>,
    /// <see cref="SelfTrainingSettings.TeacherEpochs"/> epochs). <b>Changes the backbone in place</b>: pass a copy.
    /// </summary>
    public static (PromptClassifier Model, TrainingHistory History) PromptFineTuneAll(
        RobertaForMaskedLM backbone, SubwordTokenizer tokenizer, PromptTask task, IReadOnlyList<FewShotExample> labelled,
        SelfTrainingSettings settings, Device device, Action<string>? log = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var (examples, _) = Prepare(backbone, tokenizer, task, labelled, settings);
        var model = PromptClassifier.Create(backbone, tokenizer, task, adapterOptions: null);
        var history = TrainSupervised(model, model.UnfreezeAll(), examples, settings.TeacherEpochs, settings.FineTuningLearningRate,
            "prompt fine-tuning (all)", settings.Seed, settings, log, progress, cancellationToken);
        return (model, history);
    }

    /// <summary>
    /// Baseline "classic fine-tuning": a fresh classification head on &lt;s&gt;
    /// (<see cref="RobertaForMaskedLM.AddClassifier"/>) and every parameter trained with cross-entropy on
    /// the plain (template-free) input. <b>Changes the backbone in place</b>: pass a copy. Class i is
    /// <c>task.Verbalizer.Labels[i]</c>.
    /// </summary>
    public static (ClassicClassifier Model, TrainingHistory History) ClassicFineTune(
        RobertaForMaskedLM backbone, SubwordTokenizer tokenizer, PromptTask task, IReadOnlyList<FewShotExample> labelled,
        SelfTrainingSettings settings, Device device, Action<string>? log = null, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        Prepare(backbone, tokenizer, task, labelled, settings); // same input checks
        var classic = new ClassicClassifier(backbone, tokenizer, task, Seeded(settings.Seed, 0));
        var examples = classic.Encode(labelled);
        var history = TrainLoop(backbone, classic.TrainableParameters(), examples, settings.TeacherEpochs, settings.FineTuningLearningRate,
            "classic fine-tuning", settings.Seed, settings, log, progress, cancellationToken, classic.Logits);
        return (classic, history);
    }

    private static (List<PromptExample> Examples, int MaxLength) Prepare(RobertaForMaskedLM backbone, SubwordTokenizer tokenizer, PromptTask task, IReadOnlyList<FewShotExample> labelled, SelfTrainingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(backbone);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(labelled);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (labelled.Count < task.Verbalizer.Count)
            throw new ArgumentException($"There are {labelled.Count} labelled examples but {task.Verbalizer.Count} classes; few-shot training needs at least one example per class.", nameof(labelled));
        if (labelled.FirstOrDefault(e => e.Label is null) is { } unlabelledRow)
            throw new ArgumentException($"A labelled example has no label: '{string.Join(" | ", unlabelledRow.Texts)}'.", nameof(labelled));
        int maxLength = Math.Min(backbone.Config.MaxSequenceLength, settings.MaxSequenceLength ?? int.MaxValue);
        var examples = PromptEncoder.Encode(labelled, task, tokenizer, maxLength); // throws naming a label not in the verbalizer
        return (examples, maxLength);
    }

    private static SelfTrainingRound RunRound(int round, PromptClassifier teacher, PromptClassifier student, List<PromptExample> labelled, List<PromptExample> pool,
        SelfTrainingSettings s, Device device, Action<string>? log, IProgress<TrainingProgress>? progress, CancellationToken ct, SelfTrainingCheckpoints? checkpoints)
    {
        foreach (var p in teacher.parameters()) p.requires_grad = false; // the teacher is a fixed function this round
        var theta = student.FreezeBackbone();
        long phaseBUpdates = s.PhaseBEpochs * (long)Math.Ceiling(labelled.Count / (double)s.LabelledBatchSize);
        // One optimizer for the round; its rate decays linearly to 0 over phase A + phase B.
        var schedule = new ShiftedSchedule(new WarmupPolynomialDecaySchedule(s.StudentLearningRate, 0, s.PhaseAUpdates + phaseBUpdates));
        using var optimizer = new AdamEF([new ParameterGroup("student", theta, schedule, s.WeightDecay)], s.Beta1, s.Beta2, s.Epsilon);

        long metaSteps = 0, allZero = 0; double maxSum = 0; float[] lastWeights = [];
        var phaseAOptions = new TrainingLoopOptions
        {
            MaxSteps = s.PhaseAUpdates, Seed = Mix(s.Seed, round, 1), ClipNorm = s.ClipNorm, LogInterval = s.LogInterval,
            Phase = $"{PhaseA} round {round}/{s.Rounds}",
        };
        var loop = new TrainingLoop<List<PromptExample>>(student, optimizer, checkpoints?.Configure(phaseAOptions, SelfTrainingCheckpoints.PhaseAFolder(round)) ?? phaseAOptions)
        {
            Log = log, Progress = progress,
            // The meta statistics so far travel with the phase's checkpoint, so a resumed round reports the same.
            CheckpointMetadata = () => new Dictionary<string, string> { [MetaCountersKey] = SelfTrainingCheckpoints.Serialize(new MetaCounters(metaSteps, allZero, maxSum, lastWeights)) },
            RestoreMetadata = meta =>
            {
                if (meta.TryGetValue(MetaCountersKey, out var json) && SelfTrainingCheckpoints.Deserialize<MetaCounters>(json) is { } c)
                    (metaSteps, allZero, maxSum, lastWeights) = (c.Steps, c.AllZeroSteps, c.MaxWeightSum, c.LastWeights);
            },
        };

        StepOutput Step(List<PromptExample> batchExamples, StepContext context)
        {
            var batch = PromptBatch.Collate(batchExamples, student.PadId, device);
            Tensor teacherProbabilities;
            teacher.eval();
            using (no_grad())
                teacherProbabilities = functional.softmax(teacher.Logits(batch), -1); // soft labels, confidence threshold 0
            student.train();

            Tensor weights;
            if (s.MetaReweighting && context.Step > s.KdWarmupUpdates)
            {
                var metaExamples = Enumerable.Range(0, Math.Min(s.MetaBatchSize, labelled.Count))
                    .Select(_ => labelled[context.Random.Next(labelled.Count)]).ToList();
                var meta = PromptBatch.Collate(metaExamples, student.PadId, device);
                var result = MetaReweighting.GradientAlignment(student, theta, batch, teacherProbabilities, meta, s.MetaStepSize);
                weights = result.Weights;
                var w = weights.data<float>().ToArray();
                metaSteps++;
                if (w.All(x => x == 0)) allZero++;
                maxSum += w.Max();
                lastWeights = w;
            }
            else weights = full(batch.Size, 1.0 / batch.Size, device: device);

            var losses = MetaReweighting.KlPerExample(teacherProbabilities, student.Logits(batch));
            return new StepOutput((weights * losses).sum(), batch.InputIds.numel());
        }

        var phaseA = loop.Run(epoch => Shuffled(pool, s.UnlabelledBatchSize, Mix(s.Seed, round, 100 + epoch)), Step, ct);
        var stats = new MetaWeightStats(metaSteps, allZero, metaSteps == 0 ? 0 : maxSum / metaSteps, lastWeights);
        if (metaSteps > 0) log?.Invoke($"list round {round}: {metaSteps} meta steps, {allZero} with all weights zero, mean max weight {stats.MeanMaxWeight:F3}");

        TrainingHistory? phaseB = null;
        if (phaseBUpdates > 0)
        {
            schedule.Offset = s.PhaseAUpdates;
            phaseB = TrainLoop(student, theta, labelled, s.PhaseBEpochs, 0, $"{PhaseB} round {round}/{s.Rounds}", Mix(s.Seed, round, 2), s, log, progress, ct,
                student.Logits, optimizer, checkpoints, SelfTrainingCheckpoints.PhaseBFolder(round));
        }
        return new SelfTrainingRound(round, phaseA, phaseB, stats);
    }

    private static TrainingHistory TrainSupervised(PromptClassifier model, IReadOnlyList<Parameter> parameters, List<PromptExample> examples, int epochs, double rate,
        string phase, int seed, SelfTrainingSettings s, Action<string>? log, IProgress<TrainingProgress>? progress, CancellationToken ct,
        SelfTrainingCheckpoints? checkpoints = null, string? folder = null) =>
        TrainLoop(model, parameters, examples, epochs, rate, phase, seed, s, log, progress, ct, model.Logits, null, checkpoints, folder);

    /// <summary>Cross-entropy training over <paramref name="epochs"/> shuffled epochs; a fresh AdamW with linear decay unless <paramref name="optimizer"/> is given.</summary>
    private static TrainingHistory TrainLoop(nn.Module model, IReadOnlyList<Parameter> parameters, List<PromptExample> examples, int epochs, double rate,
        string phase, int seed, SelfTrainingSettings s, Action<string>? log, IProgress<TrainingProgress>? progress, CancellationToken ct,
        Func<PromptBatch, Tensor> logits, AdamEF? optimizer = null, SelfTrainingCheckpoints? checkpoints = null, string? folder = null)
    {
        long perEpoch = (long)Math.Ceiling(examples.Count / (double)s.LabelledBatchSize);
        long total = perEpoch * epochs;
        AdamEF? owned = optimizer is null
            ? new AdamEF([new ParameterGroup("trainable", parameters, new WarmupPolynomialDecaySchedule(rate, 0, total), s.WeightDecay)], s.Beta1, s.Beta2, s.Epsilon)
            : null;
        try
        {
            var device = parameters[0].device;
            int pad = model is PromptClassifier pc ? pc.PadId : ((RobertaForMaskedLM)model).Config.PadTokenId;
            var options = new TrainingLoopOptions { MaxSteps = total, Seed = seed, ClipNorm = s.ClipNorm, LogInterval = s.LogInterval, Phase = phase };
            if (checkpoints is not null && folder is not null) options = checkpoints.Configure(options, folder);
            var loop = new TrainingLoop<List<PromptExample>>(model, optimizer ?? owned!, options) { Log = log, Progress = progress };
            return loop.Run(epoch => Shuffled(examples, s.LabelledBatchSize, Mix(seed, epoch, 3)), (batchExamples, _) =>
            {
                var batch = PromptBatch.Collate(batchExamples, pad, device);
                return new StepOutput(functional.cross_entropy(logits(batch), batch.Labels), batch.InputIds.numel());
            }, ct);
        }
        finally { owned?.Dispose(); }
    }

    /// <summary>The examples in an order that depends only on <paramref name="seed"/>, cut into batches.</summary>
    private static IEnumerable<List<PromptExample>> Shuffled(List<PromptExample> examples, int batchSize, int seed)
    {
        var order = Enumerable.Range(0, examples.Count).ToArray();
        new Random(seed).Shuffle(order);
        for (int start = 0; start < order.Length; start += batchSize)
            yield return order.Skip(start).Take(batchSize).Select(i => examples[i]).ToList();
    }

    /// <summary>
    /// What every LiST checkpoint (stage file and phase checkpoints) records and a resumed run must match:
    /// every setting that shapes the run (adapters, rates, epochs, rounds, batch sizes, meta re-weighting,
    /// optimiser, seed; not where checkpoints go, how often, or logging), the task's template and label
    /// words, the tokenizer's fingerprint, the backbone's and a SHA-256 of the labelled and unlabelled rows.
    /// </summary>
    internal static IReadOnlyDictionary<string, string> ResumeConfiguration(SelfTrainingSettings s, RobertaForMaskedLM backbone, SubwordTokenizer tokenizer,
        PromptTask task, IReadOnlyList<FewShotExample> labelled, IReadOnlyList<FewShotExample> unlabelled)
    {
        var c = TrainingConfiguration.Describe(s, nameof(s.CheckpointDirectory), nameof(s.CheckpointInterval), nameof(s.Resume), nameof(s.LogInterval));
        c["Task"] = $"{task.Name} {task.Template} {string.Join(",", task.Verbalizer.Labels.Zip(task.Verbalizer.Words, (l, w) => l + "=" + w))}";
        c["Tokenizer"] = tokenizer.Fingerprint[..16];
        c["Backbone"] = Adaptation.ModelAssembly.BodyFingerprint(backbone)[..16];
        c["Data"] = "labelled " + TrainingConfiguration.Fingerprint(labelled.Select(Row)) + "; unlabelled " + TrainingConfiguration.Fingerprint(unlabelled.Select(e => string.Join("\t", e.Texts)));
        return c;

        static string Row(FewShotExample e) => string.Join("\t", e.Texts) + "\t" + e.Label;
    }

    private const string MetaCountersKey = "mlnf.list.meta";

    /// <summary>Phase A's running meta statistics (<see cref="MetaWeightStats"/> before the mean is taken).</summary>
    private sealed record MetaCounters(long Steps, long AllZeroSteps, double MaxWeightSum, float[] LastWeights);

    /// <summary>Removes the checkpoints a LiST run wrote into <paramref name="folder"/> (<see cref="SelfTrainingSettings.CheckpointDirectory"/>); other files stay.</summary>
    public static void DeleteCheckpoints(string folder) => SelfTrainingCheckpoints.Delete(folder);

    private static int Mix(int seed, long a, long b) => TrainingLoop.StepSeed(TrainingLoop.StepSeed(seed, a), b);

    /// <summary>The generator that initialises the adapters of round <paramref name="round"/> (0: the teacher).</summary>
    internal static Generator Seeded(int seed, int round) => new((ulong)Mix(seed, round, 0x5EED));

    /// <summary>A schedule read from a later point: phase B continues the round's decay where phase A stopped.</summary>
    private sealed record ShiftedSchedule(LearningRateSchedule Inner) : LearningRateSchedule
    {
        public long Offset { get; set; }
        public override double At(long update) => Inner.At(update + Offset);
        public override double Peak => Inner.Peak;
    }
}
