// The street/community cascader, rooted at an account's jurisdiction so that nothing
// outside it is offered. Used by the registry's filter and the new-account form.
import type { CascaderOption, CascaderProps } from "element-plus";
import { api } from "./api";
import { cascaderDepth, divisionNodes } from "./registry";

// A district's streets come with their communities, so that a click on a street's
// name both picks the street and opens its communities (a lazily loaded street could not).
async function areaNodes(parent: string, depth: number): Promise<CascaderOption[]> {
  const nodes = divisionNodes(await api.children(parent)).map((n) => ({ ...n, leaf: n.leaf || depth <= 1 }));
  if (depth <= 1) return nodes;
  return Promise.all(nodes.map(async (n) => (n.leaf ? n : { ...n, children: await areaNodes(n.value, depth - 1) })));
}

/** Cascader props for the areas below `root()`: any level may be picked, the path is emitted. */
export function areaCascader(root: () => string): CascaderProps {
  return {
    lazy: true,
    checkStrictly: true,
    checkOnClickNode: true,
    emitPath: true,
    lazyLoad(node, resolve) {
      const parent = root();
      if (node.level > 0 || !parent) return resolve([]);
      areaNodes(parent, cascaderDepth(parent))
        .then(resolve)
        .catch(() => resolve([]));
    },
  };
}
