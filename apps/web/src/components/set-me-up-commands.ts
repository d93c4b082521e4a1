import type { Repository } from '../api/types';

export interface SetMeUpInput {
  host: string;
  tls: boolean;
  repo: Repository;
  image: string;
  tag: string;
  username: string;
  secret: string;
  canPush: boolean;
}

export interface SetMeUpSection {
  id: string;
  title: string;
  steps: { label: string; command: string }[];
}

/** The commands of Set Me Up, per client: plain strings, so what is shown is what is copied. */
export function setMeUpCommands({ host, tls, repo, image, tag, username, secret, canPush }: SetMeUpInput) {
  const name = `${host}/${repo.key}/${image}`;
  const ref = `${name}:${tag}`;
  const tlsFlag = tls ? '' : ' --tls-verify=false';
  const login = `echo '${secret}' | docker login ${host} --username ${username} --password-stdin`;
  const upstreamExample = repo.libraryPrefix && !image.includes('/') ? `library/${image}` : image;

  const docker: SetMeUpSection = {
    id: 'docker',
    title: 'Docker',
    steps: [
      { label: 'Sign in', command: login },
      ...(canPush ? [{ label: 'Tag and push an image you built', command: `docker tag ${image}:${tag} ${ref}\ndocker push ${ref}` }] : []),
      { label: 'Pull', command: `docker pull ${ref}` },
    ],
  };
  const podman: SetMeUpSection = {
    id: 'podman',
    title: 'Podman',
    steps: [
      { label: 'Sign in', command: `echo '${secret}' | podman login${tlsFlag} ${host} --username ${username} --password-stdin` },
      ...(canPush ? [{ label: 'Push', command: `podman push${tlsFlag} ${image}:${tag} ${ref}` }] : []),
      { label: 'Pull', command: `podman pull${tlsFlag} ${ref}` },
    ],
  };
  const skopeo: SetMeUpSection = {
    id: 'skopeo',
    title: 'Skopeo',
    steps: [
      { label: 'Inspect', command: `skopeo inspect${tls ? '' : ' --tls-verify=false'} --creds '${username}:${secret}' docker://${ref}` },
      ...(canPush
        ? [
            {
              label: 'Copy an image in (from a local OCI layout)',
              command: `skopeo copy${tls ? '' : ' --dest-tls-verify=false'} --dest-creds '${username}:${secret}' oci:./${image}:${tag} docker://${ref}`,
            },
          ]
        : []),
      {
        label: 'Copy out to a local directory',
        command: `skopeo copy${tls ? '' : ' --src-tls-verify=false'} --src-creds '${username}:${secret}' docker://${ref} dir:./${image.replaceAll('/', '-')}`,
      },
    ],
  };
  const kubernetes: SetMeUpSection = {
    id: 'kubernetes',
    title: 'Kubernetes',
    steps: [
      {
        label: 'A pull secret',
        command: `kubectl create secret docker-registry wharf-pull --docker-server=${host} --docker-username=${username} --docker-password='${secret}'`,
      },
      { label: 'Use it in a pod', command: `spec:\n  imagePullSecrets:\n    - name: wharf-pull\n  containers:\n    - name: app\n      image: ${ref}` },
    ],
  };
  const push = canPush ? `docker build -t ${name}:$TAG .\ndocker push ${name}:$TAG` : `docker pull ${ref}`;
  const github: SetMeUpSection = {
    id: 'github',
    title: 'GitHub Actions',
    steps: [
      {
        label: 'Store the token as the secret WHARF_TOKEN, then in a workflow:',
        command: [
          '- uses: docker/login-action@v3',
          '  with:',
          `    registry: ${host}`,
          `    username: ${username}`,
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JavaScript template
          '    password: ${{ secrets.WHARF_TOKEN }}',
          `- run: |\n${push
            .replaceAll(
              '$TAG',
              // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub Actions expression, not a JavaScript template
              '${{ github.sha }}',
            )
            .split('\n')
            .map((line) => `    ${line}`)
            .join('\n')}`,
        ].join('\n'),
      },
    ],
  };
  const gitlab: SetMeUpSection = {
    id: 'gitlab',
    title: 'GitLab CI',
    steps: [
      {
        label: 'Store the token as the masked variable WHARF_TOKEN, then in .gitlab-ci.yml:',
        command: [
          'build:',
          '  image: docker:27',
          '  services: [docker:27-dind]',
          '  script:',
          `    - echo "$WHARF_TOKEN" | docker login ${host} --username ${username} --password-stdin`,
          ...push
            .replaceAll('$TAG', '$CI_COMMIT_SHORT_SHA')
            .split('\n')
            .map((line) => `    - ${line}`),
        ].join('\n'),
      },
    ],
  };
  return { sections: [docker, podman, skopeo, kubernetes, github, gitlab], pullName: name, upstreamExample };
}
