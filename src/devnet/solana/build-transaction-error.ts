import type { FailedTransactionMetadata } from "litesvm";

// LiteSVM's napi enums are `const enum`s with no runtime object, so the names are listed here
// in declaration order (litesvm 0.8.0 dist/internal.d.ts).
const INSTRUCTION_ERRORS =
  "GenericError InvalidArgument InvalidInstructionData InvalidAccountData AccountDataTooSmall InsufficientFunds IncorrectProgramId MissingRequiredSignature AccountAlreadyInitialized UninitializedAccount UnbalancedInstruction ModifiedProgramId ExternalAccountLamportSpend ExternalAccountDataModified ReadonlyLamportChange ReadonlyDataModified DuplicateAccountIndex ExecutableModified RentEpochModified NotEnoughAccountKeys AccountDataSizeChanged AccountNotExecutable AccountBorrowFailed AccountBorrowOutstanding DuplicateAccountOutOfSync InvalidError ExecutableDataModified ExecutableLamportChange ExecutableAccountNotRentExempt UnsupportedProgramId CallDepth MissingAccount ReentrancyNotAllowed MaxSeedLengthExceeded InvalidSeeds InvalidRealloc ComputationalBudgetExceeded PrivilegeEscalation ProgramEnvironmentSetupFailure ProgramFailedToComplete ProgramFailedToCompile Immutable IncorrectAuthority AccountNotRentExempt InvalidAccountOwner ArithmeticOverflow UnsupportedSysvar IllegalOwner MaxAccountsDataAllocationsExceeded MaxAccountsExceeded MaxInstructionTraceLengthExceeded BuiltinProgramsMustConsumeComputeUnits BorshIoError".split(
    " ",
  );
const TRANSACTION_ERRORS =
  "AccountInUse AccountLoadedTwice AccountNotFound ProgramAccountNotFound InsufficientFundsForFee InvalidAccountForFee AlreadyProcessed BlockhashNotFound CallChainTooDeep MissingSignatureForFee InvalidAccountIndex SignatureFailure InvalidProgramForExecution SanitizeFailure ClusterMaintenance AccountBorrowOutstanding WouldExceedMaxBlockCostLimit UnsupportedVersion InvalidWritableAccount WouldExceedMaxAccountCostLimit WouldExceedAccountDataBlockLimit TooManyAccountLocks AddressLookupTableNotFound InvalidAddressLookupTableOwner InvalidAddressLookupTableData InvalidAddressLookupTableIndex InvalidRentPayingAccount WouldExceedMaxVoteCostLimit WouldExceedAccountDataTotalLimit MaxLoadedAccountsDataSizeExceeded ResanitizationNeeded InvalidLoadedAccountsDataSizeLimit UnbalancedTransaction ProgramCacheHitMaxLimit CommitCancelled".split(
    " ",
  );

/** Solana's JSON form of a transaction error, e.g. `{ InstructionError: [0, { Custom: 1 }] }` or `"BlockhashNotFound"`. */
export type TransactionErrorJson = string | Record<string, unknown>;

/** Converts a LiteSVM failure into the JSON error shape the Solana RPC returns in `meta.err`. */
export function buildTransactionError(failed: FailedTransactionMetadata): TransactionErrorJson {
  // The error classes live in litesvm's internal module, so they are told apart by shape.
  const err = failed.err() as unknown;
  if (typeof err === "number") return TRANSACTION_ERRORS[err] ?? `TransactionError(${err})`;
  const e = err as { index?: number; accountIndex?: number; err?: () => unknown };
  if (typeof e.err === "function" && e.index !== undefined) {
    const inner = e.err() as unknown;
    let innerJson: unknown;
    if (typeof inner === "number") innerJson = INSTRUCTION_ERRORS[inner] ?? `InstructionError(${inner})`;
    else if (typeof (inner as { code?: unknown }).code === "number") innerJson = { Custom: (inner as { code: number }).code };
    else innerJson = { BorshIoError: String(inner) };
    return { InstructionError: [e.index, innerJson] };
  }
  if (e.index !== undefined) return { DuplicateInstruction: e.index };
  if (/Insufficient/i.test(String(err))) return { InsufficientFundsForRent: { account_index: e.accountIndex } };
  return { ProgramExecutionTemporarilyRestricted: { account_index: e.accountIndex } };
}
