import type { ClassObject, MachineObject, SecretObject } from "../objects.ts";
import { ClassEventReasons, Finalizers } from "../../api/constants.ts";
import { MachineResources } from "../../api/resources.ts";
import type { Machine } from "../../api/v1alpha1/machine.ts";
import type { MachineClass } from "../../api/v1alpha1/machineclass.ts";
import type { Informer } from "../../runtime/cache/informer.ts";
import { objectKey, splitKey } from "../../runtime/cache/store.ts";
import type { KubeClient } from "../../runtime/client/client.ts";
import { ensureFinalizer, removeFinalizer } from "../../runtime/client/finalizers.ts";
import { Resources } from "../../runtime/client/resources.ts";
import { Controller, type ReconcileContext, type Result } from "../../runtime/controller/controller.ts";
import type { EventRecorder } from "../../runtime/events/recorder.ts";
import type { Manager } from "../../runtime/manager/manager.ts";

export interface MachineClassControllerOptions {
  readonly manager: Manager;
  readonly namespace: string;
  readonly workers?: number;
}

/** Index of machines by the name of their class (a machine naming none is in no entry). */
export const CLASS_INDEX = "class";
export const classIndexer = (m: Machine): string[] => {
  const name = (m.spec as Partial<Machine["spec"]> | undefined)?.class?.name;
  return name ? [name] : [];
};

/** namespace/name keys of the Secrets a class refers to (secretRef, credentialsSecretRef). */
export function secretKeysOf(c: MachineClass): string[] {
  const ns = c.metadata?.namespace ?? "";
  return [c.secretRef, c.credentialsSecretRef].flatMap((r) =>
    r?.name ? [`${r.namespace ?? ns}/${r.name}`] : [],
  );
}

const IN_USE_RECHECK_MS = 60_000;
const CLASS_FINALIZER = Finalizers.machineControllerManager;
const SECRET_FINALIZER = Finalizers.machineController;

/**
 * MCM's MachineClass and Secret finalizers. A class that machines use carries
 * machine.sapcloud.io/machine-controller-manager, so deleting it waits until the last of them is
 * gone (a Warning Event says so); a Secret a class refers to carries
 * machine.sapcloud.io/machine-controller while any class refers to it. Without them a class or
 * Secret deleted under running machines leaves those machines unable to delete their VMs.
 */
export class MachineClassController {
  readonly classes: Informer<ClassObject>;
  readonly secrets: Informer<SecretObject>;
  readonly machines: Informer<MachineObject>;
  readonly #client: KubeClient;
  readonly #events: EventRecorder;
  readonly #classQueue: Controller;
  readonly #secretQueue: Controller;

  constructor(opts: MachineClassControllerOptions) {
    const { manager, namespace } = opts;
    this.#client = manager.client;
    this.#events = manager.events;
    this.classes = manager.informer<ClassObject>(MachineResources.machineClasses, { namespace });
    this.secrets = manager.informer<SecretObject>(Resources.secrets, { namespace });
    this.machines = manager.informer<MachineObject>(MachineResources.machines, {
      namespace,
      indexers: { [CLASS_INDEX]: classIndexer },
    });
    const common = { workers: opts.workers ?? 5, logger: manager.logger, metrics: manager.metrics };
    this.#classQueue = new Controller({ ...common, name: "machineclass", reconcile: (c) => this.#class(c) });
    this.#secretQueue = new Controller({
      ...common,
      name: "machineclass-secret",
      reconcile: (c) => this.#secret(c),
    });
    this.#classQueue.watch(this.classes);
    this.#classQueue.watch(this.machines, (m) =>
      classIndexer(m).map((name) => `${m.metadata?.namespace ?? ""}/${name}`),
    );
    this.#secretQueue.watch(this.secrets);
    this.#secretQueue.watch(this.classes, secretKeysOf);
    manager.addController(this.#classQueue);
    manager.addController(this.#secretQueue);
  }

  #usersOf(key: string): MachineObject[] {
    const { namespace, name } = splitKey(key);
    return this.machines.store.byIndex(CLASS_INDEX, name).filter((m) => m.metadata?.namespace === namespace);
  }

  async #class(ctx: ReconcileContext): Promise<Result> {
    const c = this.classes.store.get(ctx.key);
    if (!c) return undefined;
    const users = this.#usersOf(ctx.key);
    if (!c.metadata?.deletionTimestamp) {
      if (users.length > 0)
        await ensureFinalizer(this.#client, MachineResources.machineClasses, c, CLASS_FINALIZER);
      else await removeFinalizer(this.#client, MachineResources.machineClasses, c, CLASS_FINALIZER);
      return undefined;
    }
    if (users.length > 0) {
      const names = users.map(objectKey).sort().slice(0, 5).join(", ");
      const note = `MachineClass is being deleted; it stays until no machine uses it (${users.length}: ${names}${users.length > 5 ? ", …" : ""})`;
      await this.#events.record(c, "Warning", ClassEventReasons.classInUse, "Delete", note);
      return { requeueAfter: IN_USE_RECHECK_MS };
    }
    await removeFinalizer(this.#client, MachineResources.machineClasses, c, CLASS_FINALIZER);
    return undefined;
  }

  async #secret(ctx: ReconcileContext): Promise<Result> {
    const s = this.secrets.store.get(ctx.key);
    if (!s) return undefined;
    const referenced = this.classes.store.list().some((c) => secretKeysOf(c).includes(ctx.key));
    if (!referenced) await removeFinalizer(this.#client, Resources.secrets, s, SECRET_FINALIZER);
    else if (!s.metadata?.deletionTimestamp)
      await ensureFinalizer(this.#client, Resources.secrets, s, SECRET_FINALIZER);
    return undefined;
  }
}
