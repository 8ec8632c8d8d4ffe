using MLNetForgetting.Modeling;
using MLNetForgetting.Text;
using static TorchSharp.torch;

namespace MLNetForgetting.Training;

/// <summary>
/// The masked-LM loss as a step function for <see cref="TrainingLoop{TBatch}"/>, plus held-out
/// evaluation (loss and accuracy). Pretraining and embedding relearning both use it; they differ
/// only in which parameters train.
/// </summary>
internal sealed class MaskedLmObjective
{
    private readonly RobertaForMaskedLM model;
    private readonly MlmMasker masker;
    private readonly Device device;

    public MaskedLmObjective(RobertaForMaskedLM model, SubwordTokenizer tokenizer, Device device, double maskProbability = 0.15)
    {
        this.model = model;
        this.device = device;
        masker = new MlmMasker(tokenizer.VocabSize, tokenizer.MaskId, tokenizer.PadId, tokenizer.SpecialIds, maskProbability);
    }

    public StepOutput Step(IReadOnlyList<int[]> sequences, StepContext context)
    {
        var batch = masker.Mask(sequences, context.Random, device); // tensors belong to the step's dispose scope
        var (loss, _, _) = model.MaskedLmLoss(batch.InputIds, batch.AttentionMask, batch.Labels);
        return new StepOutput(loss, batch.TokenCount);
    }

    /// <summary>
    /// Mean masked-LM loss (per predicted token) and accuracy over <paramref name="batches"/>. The
    /// masks are drawn from <paramref name="seed"/>, so every evaluation of a run sees the same masks.
    /// Call in eval mode under no_grad.
    /// </summary>
    public IReadOnlyDictionary<string, double> Evaluate(IEnumerable<IReadOnlyList<int[]>> batches, int seed)
    {
        var rng = new Random(seed);
        double lossSum = 0; long predicted = 0, correct = 0;
        foreach (var sequences in batches)
        {
            using var scope = NewDisposeScope();
            var batch = masker.Mask(sequences, rng, device);
            var (loss, hits, n) = model.MaskedLmLoss(batch.InputIds, batch.AttentionMask, batch.Labels);
            lossSum += loss.item<float>() * n;
            predicted += n; correct += hits;
        }
        if (predicted == 0) return new Dictionary<string, double> { ["loss"] = double.NaN, ["accuracy"] = double.NaN };
        return new Dictionary<string, double> { ["loss"] = lossSum / predicted, ["accuracy"] = (double)correct / predicted };
    }
}
