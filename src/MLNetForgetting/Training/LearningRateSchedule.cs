namespace MLNetForgetting.Training;

/// <summary>A learning rate as a function of the update number n (counted from 1).</summary>
internal abstract record LearningRateSchedule
{
    public abstract double At(long update);

    /// <summary>The peak rate of the schedule.</summary>
    public abstract double Peak { get; }
}

/// <summary>A constant rate.</summary>
internal sealed record ConstantSchedule(double Rate) : LearningRateSchedule
{
    public override double At(long update) => Rate;
    public override double Peak => Rate;
}

/// <summary>
/// S(n) of docs/methods.md §1.2: linear warm-up to <see cref="Rate"/> over <see cref="WarmupUpdates"/>,
/// then polynomial decay (power 1 by default) to <see cref="EndRate"/> at <see cref="TotalUpdates"/>.
/// S(n) = peak·n/W for n ≤ W, else end + (peak − end)·((T − n)/(T − W))^power.
/// </summary>
internal sealed record WarmupPolynomialDecaySchedule(double Rate, long WarmupUpdates, long TotalUpdates, double Power = 1.0, double EndRate = 0.0) : LearningRateSchedule
{
    public override double Peak => Rate;

    public override double At(long update)
    {
        if (update <= 0) return WarmupUpdates > 0 ? 0.0 : Rate;
        if (WarmupUpdates > 0 && update <= WarmupUpdates) return Rate * update / WarmupUpdates;
        if (update >= TotalUpdates) return EndRate;
        double remaining = (double)(TotalUpdates - update) / Math.Max(1, TotalUpdates - WarmupUpdates);
        return EndRate + (Rate - EndRate) * Math.Pow(remaining, Power);
    }
}

/// <summary>
/// The embedding schedule of active forgetting (docs/methods.md §1.2, point 4): every episode of
/// <see cref="ResetInterval"/> (K) updates replays the whole of <see cref="Inner"/>, compressed:
/// η_e(n) = S((n·⌊T/K⌋) mod T).
/// </summary>
internal sealed record EpisodicSchedule(LearningRateSchedule Inner, long TotalUpdates, long ResetInterval) : LearningRateSchedule
{
    public override double Peak => Inner.Peak;

    public override double At(long update)
    {
        if (ResetInterval <= 0) return Inner.At(update);
        long stretch = Math.Max(1, TotalUpdates / ResetInterval);
        return Inner.At(update * stretch % TotalUpdates);
    }
}
