// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.28;

import {Roles} from "contracts/Common.sol";
import {IActorRegistry} from "contracts/interfaces/IActorRegistry.sol";
import {INotary} from "contracts/interfaces/INotary.sol";

import {CoSign} from "../lib/CoSign.sol";
import {Handler} from "../lib/Handler.sol";

/// @title NotaryHandler
/// @notice The invariant fuzzer's hands on a Notary (see `Handler` for the pattern): notarize
///         record hashes singly, co-signed (EIP-712 signatures made here with known keys, some
///         of them spoiled) and in Merkle batches, change actors' standing, let time and blocks
///         pass. Record hashes, kinds and roots come from small pools, so the same record is
///         notarized again and again, by the same notary and by others, by the same party set
///         and by others.
///
///         The model keeps, per id (computed here from INotary's documented formulas), the first
///         notarization: its block, time, method and who vouched (notary or party set). Properties
///         checked after each action on the ids it touched:
///         - a batch id (root, notary) is anchored at most once: a repeat is refused with
///           `NotaryBatchExists(id, firstBlock, firstTime)` and `getBatch(id)` keeps the first
///           anchoring's block, time and count; records likewise (`NotaryRecordExists`);
///         - a co-signed record goes through only when every party signed the documented EIP-712
///           digest with its own key (ECDSA, or ERC-1271 for the contract wallet) and is a
///           registered actor in good standing;
///         - nobody blocks another's notarization: a call is refused as a repeat only when its own
///           id (same notary, or same party list) was notarized before, never because someone
///           else notarized the same record hash or anchored the same root;
///         - `verifyInclusion` of a one-leaf batch holds exactly when that notary anchored it;
///         - every call goes through exactly when the rules say (`_outcome`).
contract NotaryHandler is Handler, CoSign {
    /// A record id's first notarization, as the model knows it.
    struct GhostRecord {
        bool exists;
        INotary.Method method;
        uint40 timestamp;
        uint40 blockNumber;
        address notary; // Single
        bytes32 partiesHash; // CoSigned
    }

    /// A batch id's first anchoring.
    struct GhostBatch {
        bool exists;
        uint40 timestamp;
        uint40 blockNumber;
        uint32 recordCount;
    }

    /// One co-signature attempt, kept in memory to stay clear of the stack limit.
    struct CoSignCall {
        address submitter;
        bytes32 recordHash;
        bytes32 kind;
        uint256 deadline;
        address[] parties;
        bytes[] signatures;
        bytes32 id;
        bool allSigned; // every party's signature is its own, over the right digest, well formed
        bool allInGoodStanding;
        bool distinct;
    }

    // ---------------------------------------------------------------- storage
    INotary public immutable notary;
    IActorRegistry public immutable registry;
    address public immutable governor;
    /// Callers and submitters (notaries, other actors, strangers).
    address[] private _callers;
    /// Accounts with the notary role (one may get suspended).
    address[] private _notaries;
    /// Co-signing parties: accounts with known keys and the ERC-1271 wallet.
    address[] private _parties;
    mapping(address party => uint256) private _keyOf;
    /// Record hashes and kinds notarized (each pair also gives a one-leaf batch root).
    bytes32[] private _hashes;
    bytes32[] private _kinds;
    /// Model time and block: every action warps and rolls here first.
    uint256 public currentTime;
    uint256 public currentBlock;

    /// Model: actors.
    mapping(address account => bool) public registered;
    mapping(address account => bool) public suspended;
    mapping(address account => bool) public isNotary;
    /// Model: records and batches by id, and every id created (for checkAll).
    mapping(bytes32 id => GhostRecord) private _records;
    mapping(bytes32 id => GhostBatch) private _batches;
    bytes32[] private _recordIds;
    bytes32[] private _batchIds;

    /// Run statistics (shown with -vv).
    uint256 public singles;
    uint256 public coSigned;
    uint256 public batches;
    uint256 public repeatsRefused;

    // ---------------------------------------------------------------- constructor
    constructor(
        INotary notary_,
        IActorRegistry registry_,
        address governor_,
        address[] memory callers_,
        address[] memory parties_,
        uint256[] memory keys_,
        bytes32[] memory hashes_,
        bytes32[] memory kinds_
    ) {
        notary = notary_;
        registry = registry_;
        governor = governor_;
        _callers = callers_;
        _parties = parties_;
        _hashes = hashes_;
        _kinds = kinds_;
        currentTime = block.timestamp;
        currentBlock = block.number;
        for (uint256 i = 0; i < parties_.length; ++i) {
            _keyOf[parties_[i]] = keys_[i];
            _readActor(parties_[i]);
        }
        for (uint256 i = 0; i < callers_.length; ++i) {
            _readActor(callers_[i]);
            if (isNotary[callers_[i]]) _notaries.push(callers_[i]);
        }
    }

    // ---------------------------------------------------------------- actions (fuzzed)
    function passTime(uint256 secondsSeed, uint256 blocksSeed) external {
        currentTime += _bound(secondsSeed, 1, 1 days);
        currentBlock += _bound(blocksSeed, 1, 20);
        _now();
    }

    function notarize(uint256 callerSeed, uint256 recordSeed, uint256 kindSeed) external {
        _now();
        address caller = _oneIn(callerSeed, 5) ? _pick(_callers, callerSeed) : _pick(_notaries, callerSeed);
        bytes32 recordHash = _recordHash(recordSeed);
        bytes32 kind = _kind(kindSeed);
        bytes32 id = keccak256(abi.encode(recordHash, kind, caller));
        GhostRecord memory first = _records[id];
        bool valid = _activeNotary(caller) && recordHash != bytes32(0) && kind != bytes32(0);
        bool expected = valid && !first.exists;

        vm.prank(caller);
        try notary.notarize(recordHash, kind) returns (bytes32 returned) {
            _check(!first.exists, "a record id is notarized at most once");
            _check(returned == id, "record ids follow the documented formula (single)");
            _outcome(expected, true, "notarize");
            if (expected) {
                _records[id] = GhostRecord(true, INotary.Method.Single, _time(), _block(), caller, bytes32(0));
                _recordIds.push(id);
                ++singles;
            }
        } catch (bytes memory err) {
            if (valid) _checkRecordRepeat(err, id, first);
            _outcome(expected, false, "notarize");
        }
        // This caller's record and every notary's record of the same hash and kind.
        _checkRecord(id);
        for (uint256 i = 0; i < _notaries.length; ++i) {
            _checkRecord(keccak256(abi.encode(recordHash, kind, _notaries[i])));
        }
    }

    /// @dev One to three parties (sometimes none, sometimes one twice) co-sign; each signature is
    ///      mostly good and sometimes spoiled; anyone submits, before or after the deadline.
    function notarizeCoSigned(
        uint256 submitterSeed,
        uint256 partiesSeed,
        uint256 recordSeed,
        uint256 signSeed,
        uint256 deadlineSeed
    ) external {
        _now();
        CoSignCall memory c;
        c.submitter = _oneIn(submitterSeed, 2) ? _pick(_parties, submitterSeed) : _pick(_callers, submitterSeed);
        c.recordHash = _recordHash(recordSeed);
        c.kind = _kind(_sub(recordSeed, 1));
        c.deadline = _deadline(deadlineSeed);
        c.parties = _partyList(partiesSeed);
        _signAll(c, signSeed);
        c.id = keccak256(abi.encode(c.recordHash, c.kind, keccak256(abi.encodePacked(c.parties))));
        GhostRecord memory first = _records[c.id];
        uint256 n = c.parties.length;
        bool valid = c.recordHash != bytes32(0) && c.kind != bytes32(0) && currentTime <= c.deadline && n != 0
            && n <= 32 && c.signatures.length == n && c.distinct && c.allInGoodStanding && c.allSigned;
        bool expected = valid && !first.exists;
        if (n != 0) {
            _check(
                notary.coSignDigest(c.recordHash, c.kind, c.parties, c.deadline)
                    == _coSignDigest(address(notary), c.recordHash, c.kind, c.parties, c.deadline),
                "coSignDigest is the documented EIP-712 digest"
            );
        }

        vm.prank(c.submitter);
        try notary.notarizeCoSigned(c.recordHash, c.kind, c.parties, c.deadline, c.signatures) returns (bytes32 id) {
            _check(
                c.allSigned && c.allInGoodStanding,
                "a co-signed record needs every party's valid signature and good standing"
            );
            _check(!first.exists, "a record id is notarized at most once");
            _check(id == c.id, "record ids follow the documented formula (co-signed)");
            _outcome(expected, true, "notarizeCoSigned");
            if (expected) {
                _records[c.id] = GhostRecord(
                    true, INotary.Method.CoSigned, _time(), _block(), address(0), keccak256(abi.encodePacked(c.parties))
                );
                _recordIds.push(c.id);
                ++coSigned;
            }
        } catch (bytes memory err) {
            if (valid) _checkRecordRepeat(err, c.id, first);
            _outcome(expected, false, "notarizeCoSigned");
        }
        _checkRecord(c.id);
    }

    /// @dev A notary (sometimes anyone) anchors a root: one-leaf roots of the record pool, so
    ///      the same root comes again by the same notary and by others.
    function notarizeBatch(uint256 callerSeed, uint256 rootSeed, uint256 countSeed) external {
        _now();
        address caller = _oneIn(callerSeed, 5) ? _pick(_callers, callerSeed) : _pick(_notaries, callerSeed);
        bytes32 recordHash = _recordHash(rootSeed);
        bytes32 kind = _kind(_sub(rootSeed, 1));
        bytes32 root = recordHash == bytes32(0) ? bytes32(0) : _leaf(recordHash, kind);
        uint32 count = _oneIn(countSeed, 16) ? 0 : uint32(_bound(countSeed, 1, 5000));
        bytes32 id = keccak256(abi.encode(root, caller));
        GhostBatch memory first = _batches[id];
        bool valid = _activeNotary(caller) && root != bytes32(0) && count != 0;
        bool expected = valid && !first.exists;

        vm.prank(caller);
        try notary.notarizeBatch(root, count, keccak256(abi.encode("manifest", countSeed))) returns (bytes32 returned) {
            _check(!first.exists, "a batch id (root, notary) is never anchored twice");
            _check(returned == id, "batch ids follow the documented formula");
            _outcome(expected, true, "notarizeBatch");
            if (expected) {
                _batches[id] = GhostBatch(true, _time(), _block(), count);
                _batchIds.push(id);
                ++batches;
            }
        } catch (bytes memory err) {
            if (valid && first.exists) {
                ++repeatsRefused;
                _check(
                    keccak256(err)
                        == keccak256(
                            abi.encodeWithSelector(INotary.NotaryBatchExists.selector, id, first.blockNumber, first.timestamp)
                        ),
                    "a repeated batch is refused with NotaryBatchExists(id, firstBlock, firstTime)"
                );
            }
            _checkNotBlocked(err, INotary.NotaryBatchExists.selector, id, first.exists);
            _outcome(expected, false, "notarizeBatch");
        }
        // This root by every notary: each batch is its first anchoring, and inclusion holds
        // exactly for the notaries that anchored it.
        if (root != bytes32(0)) {
            _checkBatch(root, caller, recordHash, kind);
            for (uint256 i = 0; i < _notaries.length; ++i) {
                _checkBatch(root, _notaries[i], recordHash, kind);
            }
        }
    }

    /// @dev One time in four governance suspends a notary or a party; otherwise it reinstates a
    ///      suspended one.
    function changeStanding(uint256 accountSeed) external {
        _now();
        if (_oneIn(accountSeed, 4)) {
            address account = _oneIn(_sub(accountSeed, 1), 2) ? _pick(_notaries, accountSeed) : _pick(_parties, accountSeed);
            bool expected = account != governor && registered[account] && !suspended[account];
            vm.prank(governor);
            try registry.suspendActor(account, keccak256("suspended")) {
                suspended[account] = true;
                _outcome(expected, true, "suspendActor");
            } catch {
                _outcome(expected, false, "suspendActor");
            }
        } else {
            address account = _suspendedOrAny(accountSeed);
            bool expected = registered[account] && suspended[account];
            vm.prank(governor);
            try registry.reinstateActor(account) {
                suspended[account] = false;
                _outcome(expected, true, "reinstateActor");
            } catch {
                _outcome(expected, false, "reinstateActor");
            }
        }
    }

    // ---------------------------------------------------------------- properties
    /// @notice Every record and batch ever notarized against the model (once per run).
    function checkAll() public {
        for (uint256 i = 0; i < _recordIds.length; ++i) {
            _checkRecord(_recordIds[i]);
        }
        for (uint256 i = 0; i < _batchIds.length; ++i) {
            GhostBatch storage g = _batches[_batchIds[i]];
            INotary.Batch memory b = notary.getBatch(_batchIds[i]);
            _check(
                b.timestamp == g.timestamp && b.blockNumber == g.blockNumber && b.recordCount == g.recordCount,
                "a stored batch never changes"
            );
        }
    }

    /// @dev A refusal of a record the caller may notarize: as a repeat of its own id only, with
    ///      the first notarization's block and time.
    function _checkRecordRepeat(bytes memory err, bytes32 id, GhostRecord memory first) private {
        if (first.exists) {
            ++repeatsRefused;
            _check(
                keccak256(err)
                    == keccak256(
                        abi.encodeWithSelector(INotary.NotaryRecordExists.selector, id, first.blockNumber, first.timestamp)
                    ),
                "a repeated record is refused with NotaryRecordExists(id, firstBlock, firstTime)"
            );
        }
        _checkNotBlocked(err, INotary.NotaryRecordExists.selector, id, first.exists);
    }

    /// @dev A refusal as "already exists" names the caller's own id, which the model says it
    ///      (this notary, this party list) notarized before: another notary or party set never blocks it.
    function _checkNotBlocked(bytes memory err, bytes4 existsError, bytes32 id, bool ownIdUsed) private {
        if (err.length < 4 || bytes4(err) != existsError) return;
        bytes32 named;
        assembly ("memory-safe") {
            named := mload(add(err, 36))
        }
        _check(
            named == id && ownIdUsed,
            "nobody who only knows a record hash or root blocks another's notarization (the ids differ)"
        );
    }

    function _checkRecord(bytes32 id) private {
        GhostRecord storage g = _records[id];
        INotary.Record memory r = notary.getRecord(id);
        _check(
            r.method == g.method && r.timestamp == g.timestamp && r.blockNumber == g.blockNumber,
            "a record is stored once and never changes (getRecord is its first notarization)"
        );
    }

    function _checkBatch(bytes32 root, address by, bytes32 recordHash, bytes32 kind) private {
        bytes32 id = keccak256(abi.encode(root, by));
        GhostBatch storage g = _batches[id];
        INotary.Batch memory b = notary.getBatch(id);
        _check(
            b.timestamp == g.timestamp && b.blockNumber == g.blockNumber && b.recordCount == g.recordCount,
            "a stored batch never changes (getBatch is its first anchoring)"
        );
        _check(
            notary.verifyInclusion(root, by, recordHash, kind, new bytes32[](0)) == g.exists,
            "verifyInclusion holds exactly for a root this notary anchored"
        );
    }

    // ---------------------------------------------------------------- co-signatures
    /// @dev Fills `c.signatures`: per party, mostly its own good signature, one time in ten a
    ///      spoiled one; one time in twenty-four one signature too few or too many.
    function _signAll(CoSignCall memory c, uint256 seed) private view {
        uint256 n = c.parties.length;
        uint256 count = n;
        if (_oneIn(_sub(seed, 1), 24)) count = _oneIn(_sub(seed, 2), 2) || n == 0 ? n + 1 : n - 1;
        c.signatures = new bytes[](count);
        c.allSigned = true;
        c.allInGoodStanding = true;
        c.distinct = true;
        for (uint256 i = 0; i < n; ++i) {
            address party = c.parties[i];
            for (uint256 j = 0; j < i; ++j) {
                if (c.parties[j] == party) c.distinct = false;
            }
            if (!registered[party] || suspended[party]) c.allInGoodStanding = false;
            if (i >= count) {
                c.allSigned = false; // this party's signature is missing
                continue;
            }
            uint256 s = _sub(seed, 10 + i);
            Spoil how = _oneIn(s, 10) ? Spoil(1 + _choice(_sub(s, 1), 4)) : Spoil.None;
            if (how != Spoil.None) c.allSigned = false;
            uint256 otherKey = _keyOf[_parties[(_indexOf(party) + 1) % _parties.length]];
            c.signatures[i] = _coSignature(
                address(notary), c.recordHash, c.kind, c.parties, c.deadline, _keyOf[party], otherKey, how
            );
        }
        if (count > n) c.signatures[n] = c.signatures.length > 1 ? c.signatures[0] : new bytes(65);
    }

    /// @dev One to three parties (two times in three one or two); one time in ten a party twice,
    ///      one time in thirty-two none.
    function _partyList(uint256 seed) private view returns (address[] memory parties) {
        uint256 c = _choice(seed, 6);
        uint256 n = _oneIn(_sub(seed, 1), 32) ? 0 : c < 2 ? 1 : c < 4 ? 2 : 3;
        parties = new address[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 s = _sub(seed, 10 + i);
            parties[i] = i > 0 && _oneIn(s, 10) ? parties[i - 1] : _pick(_parties, s);
        }
    }

    /// @dev A deadline: mostly ahead, one time in eight already past, sometimes exactly now.
    function _deadline(uint256 seed) private view returns (uint256) {
        uint256 c = _choice(seed, 16);
        if (c == 0) return currentTime - 1;
        if (c == 1) return currentTime - _bound(seed, 1, 1 days);
        if (c == 2) return currentTime;
        return currentTime + _bound(seed, 1, 7 days);
    }

    // ---------------------------------------------------------------- picks and helpers
    function _now() private {
        vm.warp(currentTime);
        vm.roll(currentBlock);
    }

    function _pick(address[] storage list, uint256 seed) private view returns (address) {
        return list[_choice(seed, list.length)];
    }

    /// @dev A record hash of the pool, one time in thirty-two zero.
    function _recordHash(uint256 seed) private view returns (bytes32) {
        return _oneIn(_sub(seed, 7), 32) ? bytes32(0) : _hashes[_choice(seed, _hashes.length)];
    }

    /// @dev A kind of the pool, one time in thirty-two empty.
    function _kind(uint256 seed) private view returns (bytes32) {
        return _oneIn(_sub(seed, 7), 32) ? bytes32(0) : _kinds[_choice(seed, _kinds.length)];
    }

    /// @dev The StandardMerkleTree leaf of (recordHash, kind), as INotary documents it.
    function _leaf(bytes32 recordHash, bytes32 kind) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(recordHash, kind))));
    }

    function _indexOf(address party) private view returns (uint256) {
        for (uint256 i = 0; i < _parties.length; ++i) {
            if (_parties[i] == party) return i;
        }
        revert("not a party");
    }

    /// @dev Three times in four a suspended notary or party (if any), else anyone of them.
    function _suspendedOrAny(uint256 seed) private view returns (address) {
        if (!_oneIn(seed, 4)) {
            for (uint256 i = 0; i < _notaries.length; ++i) {
                if (suspended[_notaries[i]]) return _notaries[i];
            }
            uint256 n = _parties.length;
            uint256 start = _choice(_sub(seed, 1), n);
            for (uint256 i = 0; i < n; ++i) {
                address account = _parties[(start + i) % n];
                if (suspended[account]) return account;
            }
        }
        return _oneIn(_sub(seed, 2), 2) ? _pick(_notaries, seed) : _pick(_parties, seed);
    }

    function _readActor(address account) private {
        IActorRegistry.Actor memory actor = registry.getActor(account);
        registered[account] = actor.registered;
        suspended[account] = actor.suspendedAt != 0;
        isNotary[account] = registry.hasRole(Roles.NOTARY, account);
    }

    function _activeNotary(address account) private view returns (bool) {
        return registered[account] && !suspended[account] && isNotary[account];
    }

    function _time() private view returns (uint40) {
        return uint40(currentTime);
    }

    function _block() private view returns (uint40) {
        return uint40(currentBlock);
    }

    function _sub(uint256 seed, uint256 salt) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, salt)));
    }

    // ---------------------------------------------------------------- reads for the test
    /// @inheritdoc Handler
    function actions() external pure override returns (bytes4[] memory selectors) {
        selectors = new bytes4[](5);
        selectors[0] = this.passTime.selector;
        selectors[1] = this.notarize.selector;
        selectors[2] = this.notarizeCoSigned.selector;
        selectors[3] = this.notarizeBatch.selector;
        selectors[4] = this.changeStanding.selector;
    }
}
